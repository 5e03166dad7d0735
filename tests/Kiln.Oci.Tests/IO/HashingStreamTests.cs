using System.Security.Cryptography;
using Kiln.Oci.IO;

namespace Kiln.Oci.Tests.IO;

/// <summary>The one hash-while-copying helper and the one atomic write.</summary>
public sealed class HashingStreamTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("kiln-io-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Theory]
    [InlineData(Digest.Sha256Algorithm)]
    [InlineData(Digest.Sha512Algorithm)]
    public void Copy_EitherAlgorithm_DigestAndLengthOfWhatWasCopied(string algorithm)
    {
        var content = RandomNumberGenerator.GetBytes(300_000);
        var target = new MemoryStream();

        var (length, digest) = DigestCopy.Copy(new MemoryStream(content), target, algorithm);

        Assert.Equal(content, target.ToArray());
        Assert.Equal(content.Length, length);
        Assert.Equal(algorithm, digest.Algorithm);
        var expected = algorithm == Digest.Sha256Algorithm ? SHA256.HashData(content) : SHA512.HashData(content);
        Assert.Equal(Convert.ToHexStringLower(expected), digest.Encoded);
    }

    [Fact]
    public void HashingStream_Writing_HashesWhatPassesThrough()
    {
        var content = RandomNumberGenerator.GetBytes(10_000);
        var target = new MemoryStream();
        using (var hashing = new HashingStream(target, write: true))
        {
            hashing.Write(content.AsSpan(0, 4000));
            hashing.Write(content.AsSpan(4000));
            Assert.Equal(Digest.Sha256(content), hashing.GetDigest());
            Assert.Equal(content.Length, hashing.Length);
        }

        Assert.Equal(content, target.ToArray());
    }

    [Fact]
    public void VerifyingStream_MatchingContent_ReadsThrough()
    {
        var content = RandomNumberGenerator.GetBytes(50_000);
        using var verifying = new VerifyingStream(new MemoryStream(content), new Descriptor(MediaTypes.LayerTarGzip, Digest.Sha256(content), content.Length), "the layer");
        var copy = new MemoryStream();

        verifying.CopyTo(copy);

        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public void VerifyingStream_AlteredByte_RefusedWhenTheDeclaredSizeIsReached()
    {
        var content = RandomNumberGenerator.GetBytes(50_000);
        var descriptor = new Descriptor(MediaTypes.LayerTarGzip, Digest.Sha256(content), content.Length);
        content[49_999] ^= 1;
        using var verifying = new VerifyingStream(new MemoryStream(content), descriptor, "the layer");

        // A reader that stops at the declared size (a chunked upload) still sees the refusal.
        var e = Assert.Throws<ContentMismatchException>(() => verifying.ReadExactly(new byte[content.Length]));

        Assert.Contains("the layer", e.Message);
        Assert.Contains(Digest.Sha256(content).ToString(), e.Message);
        Assert.Equal(descriptor, e.Expected);
    }

    [Fact]
    public void VerifyingStream_ShortOrLongContent_Refused()
    {
        var content = RandomNumberGenerator.GetBytes(1000);
        var descriptor = new Descriptor(MediaTypes.LayerTarGzip, Digest.Sha256(content), content.Length);

        using var shorter = new VerifyingStream(new MemoryStream(content[..999]), descriptor, "short");
        Assert.Contains("ends after 999", Assert.Throws<ContentMismatchException>(() => shorter.CopyTo(Stream.Null)).Message);
        using var longer = new VerifyingStream(new MemoryStream([.. content, 0]), descriptor, "long");
        Assert.Contains("longer than", Assert.Throws<ContentMismatchException>(() => longer.CopyTo(Stream.Null)).Message);
    }

    [Fact]
    public void ContentMismatchException_Find_UnwrapsTransportWrapping()
    {
        var mismatch = new ContentMismatchException(new Descriptor(MediaTypes.LayerTarGzip, Digest.Sha256("x"u8), 1), "x", "differs");
        Assert.Same(mismatch, ContentMismatchException.Find(new HttpRequestException("copying", new IOException("body", mismatch))));
        Assert.Null(ContentMismatchException.Find(new HttpRequestException("refused")));
    }

    [Fact]
    public void AtomicWrite_WriterThrows_TargetUntouchedAndNoTempLeft()
    {
        var path = Path.Combine(_temp, "sub", "file.json");
        AtomicFile.Write(path, "old"u8);

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("half of the new"u8);
            throw new InvalidOperationException("refused mid-way");
        }));

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["file.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public void AtomicWrite_Replaces_WithTheNewContent()
    {
        var path = Path.Combine(_temp, "file.txt");
        AtomicFile.Write(path, "old"u8);
        AtomicFile.Write(path, stream => stream.Write("new"u8));
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_temp));
    }

    [Fact]
    public void WriteIfChanged_SameBytes_LeavesTheFileAndItsTime()
    {
        var path = Path.Combine(_temp, "same.json");
        AtomicFile.Write(path, "content"u8);
        var time = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, time);

        var written = AtomicFile.WriteIfChanged(path, "content"u8);

        Assert.False(written);
        Assert.Equal(time, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public void WriteIfChanged_OtherBytesOrMissing_Writes()
    {
        var path = Path.Combine(_temp, "changed.json");

        Assert.True(AtomicFile.WriteIfChanged(path, "first"u8));
        Assert.True(AtomicFile.WriteIfChanged(path, "other"u8));

        Assert.Equal("other"u8.ToArray(), File.ReadAllBytes(path));
        Assert.Empty(Directory.GetFiles(_temp, "*.tmp-*"));
    }

    [Fact]
    public void WriteIfChanged_LinkToSameBytes_ReplacedByAFile()
    {
        var elsewhere = Path.Combine(_temp, "elsewhere.json");
        File.WriteAllBytes(elsewhere, "content"u8.ToArray());
        var path = Path.Combine(_temp, "linked.json");
        File.CreateSymbolicLink(path, elsewhere);

        Assert.True(AtomicFile.WriteIfChanged(path, "content"u8));

        Assert.Null(new FileInfo(path).LinkTarget);
        Assert.Equal("content"u8.ToArray(), File.ReadAllBytes(path));
    }
}
