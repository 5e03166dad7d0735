using System.Collections.Immutable;
using System.Text;

namespace Kiln.Oci.Tests;

public class JsonTests
{
    private static readonly Digest D1 = Digest.Sha256("one"u8);
    private static readonly Digest D2 = Digest.Sha256("two"u8);

    private static string Text(byte[] json) => Encoding.UTF8.GetString(json);

    private static ImageConfig SampleConfig() => new()
    {
        Created = "1970-01-01T00:00:00Z",
        Config = new ContainerConfig
        {
            User = "10001:10001",
            Env = ["PATH=/usr/bin:/bin", "DOTNET_gcServer=0"],
            Entrypoint = ["/app/Shop.Api", "--urls", "http://+:8080"],
            WorkingDir = "/app",
            ExposedPorts = ImmutableSortedSet.Create(StringComparer.Ordinal, "8080/tcp", "443/tcp"),
            Labels = ImmutableSortedDictionary.CreateRange<string, string>(StringComparer.Ordinal,
                [new("z", "last"), new("a", "ünïcode ✓"), new(AnnotationKeys.Version, "1.4.0")]),
            Volumes = ImmutableSortedSet.Create(StringComparer.Ordinal, "/data"),
            StopSignal = "SIGTERM",
        },
        DiffIds = [D1, D2],
        History = [new HistoryEntry { Created = "1970-01-01T00:00:00Z", CreatedBy = "kiln", EmptyLayer = false }],
    };

    [Fact]
    public void ImageConfigToJson_Sample_IsCanonicalBytes()
    {
        string expected =
            "{\"created\":\"1970-01-01T00:00:00Z\",\"architecture\":\"amd64\",\"os\":\"linux\"," +
            "\"config\":{\"User\":\"10001:10001\",\"ExposedPorts\":{\"443/tcp\":{},\"8080/tcp\":{}}," +
            "\"Env\":[\"PATH=/usr/bin:/bin\",\"DOTNET_gcServer=0\"],\"Entrypoint\":[\"/app/Shop.Api\",\"--urls\",\"http://+:8080\"]," +
            "\"Volumes\":{\"/data\":{}},\"WorkingDir\":\"/app\"," +
            "\"Labels\":{\"a\":\"ünïcode ✓\",\"org.opencontainers.image.version\":\"1.4.0\",\"z\":\"last\"},\"StopSignal\":\"SIGTERM\"}," +
            $"\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{D1}\",\"{D2}\"]}}," +
            "\"history\":[{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"kiln\"}]}";
        Assert.Equal(expected, Text(SampleConfig().ToJson()));
    }

    [Fact]
    public void ImageConfigToJson_Default_OmitsEmptyMembers() =>
        Assert.Equal("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
            Text(new ImageConfig().ToJson()));

    [Fact]
    public void ImageConfigToJson_NoBomNoWhitespace()
    {
        byte[] json = SampleConfig().ToJson();
        Assert.Equal((byte)'{', json[0]);
        Assert.DoesNotContain((byte)'\n', json);
        Assert.DoesNotContain(": ", Text(json));
    }

    [Fact]
    public void ImageConfigToJson_Twice_SameBytes() =>
        Assert.Equal(SampleConfig().ToJson(), SampleConfig().ToJson());

    [Fact]
    public void ImageConfigParse_OwnOutput_RoundTrips()
    {
        var config = SampleConfig();
        var parsed = ImageConfig.Parse(config.ToJson());
        Assert.Equal(config, parsed);
        Assert.Equal(config.ToJson(), parsed.ToJson());
    }

    [Fact]
    public void ImageConfigParse_DockerConfig_ReadsKnownIgnoresUnknown()
    {
        string docker = """
            {"architecture":"amd64","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,
             "Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["bash"],
             "Image":"sha256:abc","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null,
             "Healthcheck":{"Test":["CMD","true"]}},
             "container":"deadbeef","created":"2024-01-02T03:04:05.123456789Z","docker_version":"20.10.23",
             "history":[{"created":"2024-01-02T03:04:05Z","created_by":"/bin/sh -c #(nop) ADD file:x in / "},
                        {"created":"2024-01-02T03:04:05Z","created_by":"/bin/sh -c #(nop)  CMD [\"bash\"]","empty_layer":true}],
             "os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]}}
            """;
        var config = ImageConfig.Parse(Encoding.UTF8.GetBytes(docker));
        Assert.Equal("2024-01-02T03:04:05.123456789Z", config.Created);
        Assert.Null(config.Config.User);
        Assert.Null(config.Config.WorkingDir);
        Assert.Equal("bash", Assert.Single(config.Config.Cmd));
        Assert.True(config.Config.Entrypoint.IsEmpty);
        Assert.Empty(config.Config.Labels);
        Assert.Empty(config.Config.Volumes);
        Assert.Single(config.DiffIds);
        Assert.Equal(2, config.History.Length);
        Assert.True(config.History[1].EmptyLayer);
    }

    [Fact]
    public void ImageConfigParse_MinimalObject_DefaultsAndEmptyCollections()
    {
        var config = ImageConfig.Parse("{}"u8);
        Assert.Equal("amd64", config.Architecture);
        Assert.Equal("linux", config.Os);
        Assert.False(config.DiffIds.IsDefault);
        Assert.Empty(config.DiffIds);
        Assert.False(config.Config.Env.IsDefault);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"config\":{\"Env\":\"x\"}}")]
    [InlineData("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:nope\"]}}")]
    [InlineData("{\"rootfs\":{\"type\":\"other\"}}")]
    [InlineData("{\"os\":1}")]
    public void ImageConfigParse_Malformed_ThrowsOciFormatException(string json)
    {
        var e = Assert.Throws<OciFormatException>(() => ImageConfig.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains("image config", e.Message);
    }

    private static ImageManifest SampleManifest() => new(
        new Descriptor(MediaTypes.ImageConfig, D1, 123),
        [new Descriptor(MediaTypes.LayerTarGzip, D2, 456)])
    {
        Annotations = ImmutableSortedDictionary.CreateRange<string, string>(StringComparer.Ordinal,
            [new(AnnotationKeys.Version, "1.4.0"), new(AnnotationKeys.Created, "1970-01-01T00:00:00Z")]),
    };

    [Fact]
    public void ImageManifestToJson_Sample_IsCanonicalBytes()
    {
        string expected =
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," +
            $"\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{D1}\",\"size\":123}}," +
            $"\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"{D2}\",\"size\":456}}]," +
            "\"annotations\":{\"org.opencontainers.image.created\":\"1970-01-01T00:00:00Z\",\"org.opencontainers.image.version\":\"1.4.0\"}}";
        Assert.Equal(expected, Text(SampleManifest().ToJson()));
    }

    [Fact]
    public void ImageManifestToJson_NoLayers_StillWritesLayersArray() =>
        Assert.Contains("\"layers\":[]", Text(new ImageManifest(new Descriptor(MediaTypes.ImageConfig, D1, 2), []).ToJson()));

    [Fact]
    public void ImageManifestParse_OwnOutput_RoundTrips() =>
        Assert.Equal(SampleManifest(), ImageManifest.Parse(SampleManifest().ToJson()));

    [Fact]
    public void ImageManifestParse_DockerV2_KeepsMediaTypesAndConvertsToOci()
    {
        string json = $$"""
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
             "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"{{D1}}"},
             "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2811478,"digest":"{{D2}}"}]}
            """;
        var manifest = ImageManifest.Parse(Encoding.UTF8.GetBytes(json));
        Assert.True(manifest.IsDocker);
        Assert.Equal(MediaTypes.DockerLayerGzip, manifest.Layers[0].MediaType);
        var oci = manifest.ToOci();
        Assert.Equal(MediaTypes.ImageManifest, oci.MediaType);
        Assert.Equal(MediaTypes.ImageConfig, oci.Config.MediaType);
        Assert.Equal(MediaTypes.LayerTarGzip, oci.Layers[0].MediaType);
        Assert.Equal(D2, oci.Layers[0].Digest);
    }

    [Theory]
    [InlineData("{\"schemaVersion\":1,\"config\":{}}")]
    [InlineData("{\"schemaVersion\":2}")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"config\":{}}")]
    [InlineData("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:1\",\"size\":1}}")]
    [InlineData("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":-1}}")]
    [InlineData("{\"schemaVersion\":2,")]
    public void ImageManifestParse_Malformed_ThrowsOciFormatException(string json) =>
        Assert.Throws<OciFormatException>(() => ImageManifest.Parse(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void ImageIndexToJson_WithPlatformAndAnnotations_IsCanonicalBytes()
    {
        var index = new ImageIndex
        {
            Manifests =
            [
                new Descriptor(MediaTypes.ImageManifest, D1, 10)
                {
                    Platform = new Platform("arm64", "linux") { Variant = "v8" },
                }.WithAnnotation(AnnotationKeys.RefName, "shop-api:1.4.0"),
            ],
        };
        string expected =
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[" +
            $"{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"{D1}\",\"size\":10," +
            "\"annotations\":{\"org.opencontainers.image.ref.name\":\"shop-api:1.4.0\"}," +
            "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}]}";
        Assert.Equal(expected, Text(index.ToJson()));
        Assert.Equal(index, ImageIndex.Parse(index.ToJson()));
    }

    [Fact]
    public void ImageIndexToJson_Empty_HasManifestsArray() =>
        Assert.Equal("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}",
            Text(ImageIndex.Empty.ToJson()));

    [Fact]
    public void ImageIndexParse_DockerManifestList_Accepted()
    {
        string json = $$$"""{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"{{{D1}}}","size":7,"platform":{"architecture":"amd64","os":"linux"}}]}""";
        var index = ImageIndex.Parse(Encoding.UTF8.GetBytes(json));
        Assert.Equal(new Platform("amd64", "linux"), index.Manifests[0].Platform);
    }

    [Fact]
    public void CanonicalJson_Serialize_CompactRelaxedNoTrailingNewline()
    {
        byte[] bytes = CanonicalJson.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteString("k", "é<>&\"\n");
            w.WriteEndObject();
        });
        Assert.Equal("{\"k\":\"é<>&\\\"\\n\"}", Text(bytes));
    }
}
