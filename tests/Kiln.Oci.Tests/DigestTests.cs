namespace Kiln.Oci.Tests;

public class DigestTests
{
    private const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void Sha256_EmptyInput_IsKnownDigest() =>
        Assert.Equal("sha256:" + EmptySha256, Digest.Sha256(ReadOnlySpan<byte>.Empty).ToString());

    [Fact]
    public void Sha256_Stream_EqualsSpan()
    {
        byte[] data = "hello"u8.ToArray();
        Assert.Equal(Digest.Sha256(data), Digest.Sha256(new MemoryStream(data)));
    }

    [Fact]
    public void Parse_ValidSha256_RoundTrips()
    {
        var d = Digest.Parse("sha256:" + EmptySha256);
        Assert.Equal("sha256", d.Algorithm);
        Assert.Equal(EmptySha256, d.Encoded);
        Assert.Equal("sha256:" + EmptySha256, d.ToString());
    }

    [Fact]
    public void Parse_ValidSha512_Accepted()
    {
        var d = Digest.Parse("sha512:" + new string('a', 128));
        Assert.Equal("sha512", d.Algorithm);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha256")]
    [InlineData("sha256:")]
    [InlineData(":abc")]
    [InlineData("sha256:abc")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ")]
    [InlineData("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void Parse_Malformed_ThrowsOciFormatException(string value)
    {
        var e = Assert.Throws<OciFormatException>(() => Digest.Parse(value));
        Assert.Contains("digest", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(Digest.TryParse(value, out _));
    }

    [Fact]
    public void TryParse_Null_ReturnsFalse() => Assert.False(Digest.TryParse(null, out _));

    [Fact]
    public void Constructor_InvalidHex_Throws() =>
        Assert.Throws<OciFormatException>(() => new Digest("sha256", "xyz"));

    [Fact]
    public void FromSha256Hash_WrongLength_Throws() =>
        Assert.Throws<ArgumentException>(() => Digest.FromSha256Hash(new byte[31]));

    [Fact]
    public void Equality_SameValue_Equal()
    {
        Assert.Equal(Digest.Parse("sha256:" + EmptySha256), Digest.Sha256([]));
        Assert.NotEqual(Digest.Sha256([1]), Digest.Sha256([2]));
    }

    [Fact]
    public void Matches_ContentAndOther_TrueAndFalse()
    {
        var d = Digest.Sha256("abc"u8);
        Assert.True(d.Matches("abc"u8));
        Assert.False(d.Matches("abd"u8));
    }
}
