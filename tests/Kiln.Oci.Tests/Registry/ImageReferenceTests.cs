using Kiln.Oci;
using Kiln.Oci.Registry;

namespace Kiln.Oci.Tests.Registry;

public sealed class ImageReferenceTests
{
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("127.0.0.1:5000/kiln/busybox:1.36@sha256:" + Hex, "127.0.0.1:5000", "kiln/busybox", "1.36", true)]
    [InlineData("ghcr.io/acme/app@sha256:" + Hex, "ghcr.io", "acme/app", null, true)]
    [InlineData("debian:bookworm", "docker.io", "library/debian", "bookworm", false)]
    [InlineData("acme/app", "docker.io", "acme/app", null, false)]
    [InlineData("localhost/app:1", "localhost", "app", "1", false)]
    [InlineData("localhost:5000/a/b/c", "localhost:5000", "a/b/c", null, false)]
    public void Parse_ValidReference_SplitsParts(string text, string registry, string repository, string? tag, bool pinned)
    {
        var reference = ImageReference.Parse(text);
        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(pinned, reference.Digest is not null);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper/Case")]
    [InlineData("ghcr.io/app@sha256:short")]
    [InlineData("ghcr.io/app:bad tag")]
    [InlineData("ghcr.io/app:")]
    public void Parse_InvalidReference_FormatException(string text) =>
        Assert.Throws<FormatException>(() => ImageReference.Parse(text));

    [Fact]
    public void ToString_RoundTrips()
    {
        var text = $"127.0.0.1:5000/kiln/app:1.0.0@sha256:{Hex}";
        Assert.Equal(text, ImageReference.Parse(text).ToString());
        Assert.Equal(Digest.Parse("sha256:" + Hex), ImageReference.Parse(text).Digest);
    }
}
