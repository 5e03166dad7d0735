using System.Collections.Immutable;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Kiln.Oci;

namespace Kiln.Fuzz;

/// <summary>Kiln.Oci's readers: layers, OCI JSON, a layout's index.json, OCI and docker archives.</summary>
internal static class OciTargets
{
    private static readonly byte[][] JsonTokens =
    [
        .. new[]
        {
            "null", "true", "[]", "{}", "\"\"", "-1", "1e400", "\"schemaVersion\":2,", "\"mediaType\":", "\"digest\":",
            "\"size\":-1,", "\"size\":9223372036854775807,", "\"manifests\":[", "\"layers\":null,", "\"annotations\":{\"a\":1},",
            "\"sha256:", "sha512:", "\\u0000", "\\ud800", "\"platform\":{}", MediaTypes.ImageIndex, MediaTypes.DockerManifest,
        }.Select(Encoding.UTF8.GetBytes),
    ];

    private static readonly byte[][] TarTokens =
    [
        .. new[] { "././@LongLink", "ustar\0" + "00", "ustar  \0", "path=", "linkpath=", "size=", "30 size=99999999999999\n", ".wh..wh..opq", ".wh.", "../../", "/" }
            .Select(Encoding.ASCII.GetBytes),
        [0x1F, 0x8B, 0x08, 0x00], [0x28, 0xB5, 0x2F, 0xFD],
    ];

    public static IEnumerable<FuzzTarget> All() =>
    [
        new()
        {
            Name = "layer-tar",
            Description = "LayerReader.ReadFiles, uncompressed tar (ustar, GNU, PAX)",
            Seeds = _ => TarSeeds(),
            Run = (input, _) => Drain(LayerReader.ReadFiles(new MemoryStream(input, writable: false), MediaTypes.LayerTar)),
            Shape = InputShape.Tar,
            Tokens = TarTokens,
        },
        new()
        {
            Name = "layer-gzip",
            Description = "LayerReader.ReadFiles, gzip-compressed tar",
            Seeds = _ => TarSeeds(),
            Run = (input, _) => Drain(LayerReader.ReadFiles(new MemoryStream(input, writable: false), MediaTypes.LayerTarGzip)),
            Shape = InputShape.Tar,
            Tokens = TarTokens,
            Finish = GzipMostly,
        },
        new()
        {
            Name = "image-manifest",
            Description = "ImageManifest.Parse (OCI and Docker v2.2), with its descriptors and digests",
            Seeds = _ => ManifestSeeds(),
            Run = (input, _) => ImageManifest.Parse(input).ToOci(),
            Shape = InputShape.Json,
            Tokens = JsonTokens,
        },
        new()
        {
            Name = "image-index",
            Description = "ImageIndex.Parse (OCI index and Docker manifest list)",
            Seeds = _ => IndexSeeds(),
            Run = (input, unused) => _ = ImageIndex.Parse(input).Manifests.Select(m => (m.RefName, m.Platform?.ToString())).Count(),
            Shape = InputShape.Json,
            Tokens = JsonTokens,
        },
        new()
        {
            Name = "image-config",
            Description = "ImageConfig.Parse (OCI and Docker image configs)",
            Seeds = _ => ConfigSeeds(),
            Run = (input, _) => ImageConfig.Parse(input),
            Shape = InputShape.Json,
            Tokens = JsonTokens,
        },
        new()
        {
            Name = "digest",
            Description = "Digest.Parse",
            Seeds = _ => [.. new[] { Digest.Sha256("a"u8).ToString(), "sha512:" + new string('a', 128), Digest.Sha256("b"u8).ToString() }.Select(Encoding.UTF8.GetBytes)],
            Run = (input, _) => Digest.Parse(Encoding.UTF8.GetString(input)),
            Shape = InputShape.Text,
            Tokens = [.. new[] { "sha256:", "sha512:", ":", "A", "g", "\0" }.Select(Encoding.UTF8.GetBytes)],
        },
        new()
        {
            Name = "layout-index",
            Description = "OciLayout.ReadIndex / FindManifest (index.json of an image layout)",
            Seeds = _ => IndexSeeds(),
            Run = RunLayoutIndex,
            Shape = InputShape.Json,
            Tokens = JsonTokens,
        },
        new()
        {
            Name = "oci-archive",
            Description = "ArchiveReader.ImportInto, OCI archive (tar of an image layout)",
            Seeds = scratch => [ArchiveSeed(scratch, oci: true)],
            Run = (input, scratch) => RunArchive(input, scratch, null),
            Shape = InputShape.Tar | InputShape.Json,
            Tokens = [.. TarTokens, .. JsonTokens, .. new[] { "blobs/sha256/", "index.json", "oci-layout" }.Select(Encoding.ASCII.GetBytes)],
        },
        new()
        {
            Name = "docker-archive",
            Description = "ArchiveReader.ImportInto, docker-archive (docker save)",
            Seeds = scratch => [ArchiveSeed(scratch, oci: false)],
            Run = (input, scratch) => RunArchive(input, scratch, "docker.io/library/fuzz:1.0"),
            Shape = InputShape.Tar | InputShape.Json,
            Tokens = [.. TarTokens, .. JsonTokens, .. new[] { "manifest.json", "\"Config\":", "\"Layers\":[", "\"RepoTags\":null" }.Select(Encoding.ASCII.GetBytes)],
        },
    ];

    private static void Drain<T>(IEnumerable<T> sequence)
    {
        foreach (var _ in sequence)
        {
        }
    }

    private static byte[] GzipMostly(byte[] tar, Random random)
    {
        var gzip = Gzip(tar);
        if (random.Next(3) == 0)
        {
            // Damage the compressed stream itself too (header, deflate blocks, CRC and length trailer).
            for (int i = random.Next(1, 4); i > 0 && gzip.Length > 0; i--)
            {
                gzip[random.Next(gzip.Length)] ^= (byte)(1 << random.Next(8));
            }

            if (random.Next(4) == 0)
            {
                gzip = gzip[..random.Next(gzip.Length + 1)];
            }
        }

        return gzip;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static void RunLayoutIndex(byte[] input, FuzzScratch scratch)
    {
        string root = Path.Combine(scratch.Root, "layout");
        if (!Directory.Exists(root))
        {
            OciLayout.OpenOrCreate(root);
        }

        File.WriteAllBytes(Path.Combine(root, OciLayout.IndexFileName), input);
        var layout = OciLayout.Open(root);
        _ = layout.FindManifest("fuzz:1.0");
        if (layout.ReadIndex().Manifests.Length == 1)
        {
            _ = layout.FindManifest(null);
        }
    }

    private static void RunArchive(byte[] input, FuzzScratch scratch, string? reference)
    {
        string path = scratch.WriteInput(input, "archive.tar");
        string target = scratch.NewDirectory();
        try
        {
            var layout = OciLayout.OpenOrCreate(target);
            ArchiveReader.ImportInto(path, layout, null, out var manifest);
            layout.ResolveManifest(manifest);
            if (reference is not null)
            {
                ArchiveReader.ImportInto(path, layout, reference, out _);
            }
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }

    /// <summary>Tars in every format Kiln meets: Kiln's own (LayerWriter), PAX, GNU, ustar and V7, with long
    /// names, links, whiteouts, devices and a global header.</summary>
    internal static IReadOnlyList<byte[]> TarSeeds()
    {
        var seeds = new List<byte[]>();
        using (var layer = new MemoryStream())
        {
            LayerWriter.Write(
                [
                    LayerEntry.Directory("/app"),
                    LayerEntry.File("/app/appsettings.json", "{\"a\":1}"u8.ToArray()),
                    LayerEntry.File("/app/run.sh", "#!/bin/sh\nexec /app/server\n"u8.ToArray()),
                    LayerEntry.Symlink("/app/current", "/app/run.sh"),
                    LayerEntry.File("/app/" + new string('n', 120) + "/deep.txt", new byte[700]),
                ],
                layer,
                new LayerWriterOptions());
            seeds.Add(Gunzip(layer.ToArray()));
        }

        foreach (var format in new[] { TarEntryFormat.Pax, TarEntryFormat.Gnu, TarEntryFormat.Ustar, TarEntryFormat.V7 })
        {
            using var output = new MemoryStream();
            using (var writer = new TarWriter(output, format, leaveOpen: true))
            {
                if (format == TarEntryFormat.Pax)
                {
                    writer.WriteEntry(new PaxGlobalExtendedAttributesTarEntry(new Dictionary<string, string> { ["comment"] = "fuzz" }));
                }

                writer.WriteEntry(Entry(format, TarEntryType.Directory, "./etc/"));
                var file = Entry(format, format == TarEntryFormat.V7 ? TarEntryType.V7RegularFile : TarEntryType.RegularFile, "./etc/hosts");
                file.DataStream = new MemoryStream("127.0.0.1 localhost\n"u8.ToArray());
                writer.WriteEntry(file);
                var hard = Entry(format, TarEntryType.HardLink, "./etc/hosts.bak");
                hard.LinkName = "./etc/hosts";
                writer.WriteEntry(hard);
                var symlink = Entry(format, TarEntryType.SymbolicLink, "./etc/localtime");
                symlink.LinkName = "/usr/share/zoneinfo/UTC";
                writer.WriteEntry(symlink);
                writer.WriteEntry(Entry(format, format == TarEntryFormat.V7 ? TarEntryType.V7RegularFile : TarEntryType.RegularFile, "./etc/.wh.old"));
                if (format != TarEntryFormat.V7)
                {
                    writer.WriteEntry(Entry(format, TarEntryType.CharacterDevice, "./dev/null"));
                    writer.WriteEntry(Entry(format, TarEntryType.Fifo, "./run/fifo"));
                }

                if (format is TarEntryFormat.Pax or TarEntryFormat.Gnu)
                {
                    var longName = Entry(format, TarEntryType.RegularFile, "./usr/" + new string('x', 150) + "/file");
                    longName.DataStream = new MemoryStream(new byte[1025]);
                    writer.WriteEntry(longName);
                }
            }

            seeds.Add(output.ToArray());
        }

        return seeds;
    }

    private static TarEntry Entry(TarEntryFormat format, TarEntryType type, string name) => format switch
    {
        TarEntryFormat.Pax => new PaxTarEntry(type, name, new Dictionary<string, string> { ["SCHILY.xattr.user.a"] = "b" }),
        TarEntryFormat.Gnu => new GnuTarEntry(type, name),
        TarEntryFormat.Ustar => new UstarTarEntry(type, name),
        _ => new V7TarEntry(type, name),
    };

    private static byte[] Gunzip(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static readonly Digest ConfigDigest = Digest.Sha256("config"u8);

    private static Descriptor Layer(string content, int size) =>
        new(MediaTypes.LayerTarGzip, Digest.Sha256(Encoding.UTF8.GetBytes(content)), size);

    private static IReadOnlyList<byte[]> ManifestSeeds()
    {
        var oci = new ImageManifest(new Descriptor(MediaTypes.ImageConfig, ConfigDigest, 1234), [Layer("a", 100), Layer("b", 2_000_000)])
        {
            Annotations = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>("org.opencontainers.image.created", "1970-01-01T00:00:00Z")]),
            Subject = new Descriptor(MediaTypes.ImageManifest, Digest.Sha256("subject"u8), 42),
        };
        return
        [
            oci.ToJson(),
            (oci with { MediaType = MediaTypes.DockerManifest, Subject = null, Annotations = null }).ToJson(),
            Encoding.UTF8.GetBytes($$"""
                {
                  "schemaVersion": 2,
                  "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "artifactType": "application/vnd.example+json",
                  "config": { "mediaType": "application/vnd.oci.empty.v1+json", "digest": "{{Digest.Sha256("{}"u8)}}", "size": 2, "data": "e30=" },
                  "layers": [ { "mediaType": "application/json", "digest": "sha512:{{new string('0', 128)}}", "size": 0, "urls": ["https://example.com"] } ]
                }
                """),
        ];
    }

    private static IReadOnlyList<byte[]> IndexSeeds()
    {
        var amd = new Descriptor(MediaTypes.ImageManifest, Digest.Sha256("amd64"u8), 512)
        {
            Platform = new Platform("amd64", "linux"),
            Annotations = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>("org.opencontainers.image.ref.name", "fuzz:1.0")]),
        };
        var arm = new Descriptor(MediaTypes.ImageManifest, Digest.Sha256("arm64"u8), 530) { Platform = new Platform("arm64", "linux") { Variant = "v8" } };
        return
        [
            new ImageIndex { Manifests = [amd] }.ToJson(),
            new ImageIndex { Manifests = [amd, arm], Annotations = amd.Annotations }.ToJson(),
            (new ImageIndex { MediaType = MediaTypes.DockerManifestList, Manifests = [amd with { MediaType = MediaTypes.DockerManifest, Annotations = null }] }).ToJson(),
        ];
    }

    private static IReadOnlyList<byte[]> ConfigSeeds() =>
    [
        Encoding.UTF8.GetBytes($$"""
            {"created":"1970-01-01T00:00:00Z","author":"kiln","architecture":"amd64","os":"linux",
             "config":{"User":"10001:10001","Env":["PATH=/usr/bin","A=b"],"Entrypoint":["/app/server","--urls","http://+:8080"],"Cmd":null,
               "WorkingDir":"/app","ExposedPorts":{"8080/tcp":{ } },"Volumes":{"/data":{ } },"Labels":{"a":"b"},"StopSignal":"SIGTERM"},
             "rootfs":{"type":"layers","diff_ids":["{{Digest.Sha256("a"u8)}}","{{Digest.Sha256("b"u8)}}"]},
             "history":[{"created":"1970-01-01T00:00:00Z","created_by":"kiln","comment":"layer"},{"empty_layer":true}]}
            """),
        Encoding.UTF8.GetBytes("""{"architecture":"arm64","variant":"v8","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"""),
    ];

    /// <summary>A one-image layout (two gzip layers, a config, a manifest) written out as an archive by ArchiveWriter.</summary>
    private static byte[] ArchiveSeed(FuzzScratch scratch, bool oci)
    {
        var layout = OciLayout.OpenOrCreate(scratch.NewDirectory());
        var layers = new List<(Descriptor Blob, Digest DiffId)>();
        foreach (var content in new[] { "one", "two" })
        {
            using var gzip = new MemoryStream();
            var result = LayerWriter.Write([LayerEntry.File("/" + content + ".txt", Encoding.UTF8.GetBytes(content))], gzip, new LayerWriterOptions());
            layers.Add((layout.WriteBlob(gzip.ToArray(), MediaTypes.LayerTarGzip), result.DiffId));
        }

        string diffIds = string.Join(',', layers.Select(l => $"\"{l.DiffId}\""));
        var config = layout.WriteBlob(
            Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","config":{ },"rootfs":{"type":"layers","diff_ids":[{{diffIds}}] } }"""),
            MediaTypes.ImageConfig);
        var manifest = layout.WriteBlob(new ImageManifest(config, [.. layers.Select(l => l.Blob)]).ToJson(), MediaTypes.ImageManifest);
        layout.Tag("fuzz:1.0", manifest);
        using var archive = new MemoryStream();
        if (oci)
        {
            ArchiveWriter.WriteOciArchive(layout, manifest, archive);
        }
        else
        {
            ArchiveWriter.WriteDockerArchive(layout, manifest, ["fuzz:1.0"], archive);
        }

        return archive.ToArray();
    }
}
