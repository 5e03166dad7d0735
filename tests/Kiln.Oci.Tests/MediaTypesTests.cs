namespace Kiln.Oci.Tests;

public class MediaTypesTests
{
    [Theory]
    [InlineData(MediaTypes.LayerTar, true, false)]
    [InlineData(MediaTypes.LayerTarGzip, true, true)]
    [InlineData(MediaTypes.LayerTarZstd, true, false)]
    [InlineData(MediaTypes.DockerLayerGzip, true, true)]
    [InlineData("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", true, true)]
    [InlineData(MediaTypes.ImageConfig, false, false)]
    [InlineData(MediaTypes.ImageManifest, false, false)]
    public void IsLayer_KnownTypes_Classified(string mediaType, bool layer, bool gzip)
    {
        Assert.Equal(layer, MediaTypes.IsLayer(mediaType));
        Assert.Equal(gzip, MediaTypes.IsGzipLayer(mediaType));
    }

    [Fact]
    public void Constants_MatchSpec()
    {
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", MediaTypes.ImageManifest);
        Assert.Equal("application/vnd.oci.image.index.v1+json", MediaTypes.ImageIndex);
        Assert.Equal("application/vnd.oci.image.config.v1+json", MediaTypes.ImageConfig);
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", MediaTypes.DockerManifest);
        Assert.Equal("application/vnd.docker.distribution.manifest.list.v2+json", MediaTypes.DockerManifestList);
        Assert.Equal("application/vnd.docker.container.image.v1+json", MediaTypes.DockerConfig);
        Assert.Equal("org.opencontainers.image.ref.name", AnnotationKeys.RefName);
        Assert.Equal("org.opencontainers.image.base.name", AnnotationKeys.BaseName);
    }
}
