using System.Net;
using Kiln.Oci.IO;
using Kiln.Oci.Registry;
using Kiln.Tests.Registry;
using Kiln.Tests.Shared;

namespace Kiln.Oci.Tests.Registry;

/// <summary>
/// Back-pressure and integrity of the registry client against the fake registry on 127.0.0.1, with fake time: a
/// registry that throttles is waited out within the budget, one that never stops is a Throttled failure, and an upload
/// whose source is not the blob described never completes.
/// </summary>
public sealed class RegistryThrottlingTests
{
    private static RegistryClientOptions Options(InstantTimeProvider time, TimeSpan? budget = null, long chunkSize = 0) => new()
    {
        Time = time,
        RetryBudget = budget ?? TimeSpan.FromMinutes(1),
        ChunkSize = chunkSize,
    };

    [Fact]
    public async Task Pull_429RetryAfter1OnEverySecondRequest_SucceedsWaitingEachPauseOut()
    {
        using var fake = new FakeRegistry { ThrottleRetryAfter = "1", ThrottleEvery = 2 };
        var image = TestImage.Create(5000, 7000);
        fake.Serve("kiln/throttled", image.Manifest, image.Blobs);
        var time = new InstantTimeProvider();
        using var client = new RegistryClient(fake.Host, Options(time));

        var (descriptor, _) = await client.GetManifestAsync("kiln/throttled", image.Digest.ToString());
        foreach (var blob in image.BlobDescriptors)
        {
            var target = new MemoryStream();
            await client.DownloadBlobAsync("kiln/throttled", blob, target);
            Assert.Equal(image.Blobs[blob.Digest], target.ToArray());
        }

        Assert.Equal(image.Digest, descriptor.Digest);
        Assert.True(fake.Throttled >= 3, $"the registry throttled {fake.Throttled} requests");
        Assert.Equal(fake.Throttled, time.Waits.Count(w => w == TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3000)]
    public async Task Push_429RetryAfter1OnEverySecondRequest_SucceedsInsteadOfRunningOutOfAttempts(long chunkSize)
    {
        using var fake = new FakeRegistry { ThrottleRetryAfter = "1", ThrottleEvery = 2 };
        var image = TestImage.Create(10_000, 4000);
        var time = new InstantTimeProvider();
        using var client = new RegistryClient(fake.Host, Options(time, chunkSize: chunkSize));

        foreach (var blob in image.BlobDescriptors)
        {
            await client.PushBlobAsync("kiln/pushed", blob, () => new MemoryStream(image.Blobs[blob.Digest]));
        }

        await client.PutManifestAsync("kiln/pushed", "1.0.0", MediaTypes.ImageManifest, image.ManifestBytes);

        Assert.All(image.BlobDescriptors, b => Assert.True(fake.HasBlob("kiln/pushed", b.Digest)));
        Assert.True(fake.HasManifest("kiln/pushed", "1.0.0"));
        Assert.True(fake.Throttled >= 4, $"the registry throttled {fake.Throttled} requests");
    }

    [Fact]
    public async Task Pull_Endless429_ThrottledFailureNamingTheRegistryAfterTheBudget()
    {
        using var fake = new FakeRegistry { ThrottleRetryAfter = "1", ThrottleEvery = 1 };
        var time = new InstantTimeProvider();
        using var client = new RegistryClient(fake.Host, Options(time, TimeSpan.FromSeconds(20)));

        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync("kiln/x", "1"));

        Assert.Equal(RegistryFailure.Throttled, e.Failure);
        Assert.Equal(HttpStatusCode.TooManyRequests, e.Status);
        Assert.Contains("throttled", e.Message);
        Assert.Contains(fake.Host, e.Message);
        Assert.True(time.Waited <= TimeSpan.FromSeconds(20), $"waited {time.Waited}");
        Assert.True(time.Waited >= TimeSpan.FromSeconds(15), $"waited {time.Waited}: the budget was used, not a few attempts");
    }

    [Fact]
    public async Task Push_Endless503WithRetryAfterDate_ThrottledFailure()
    {
        var time = new InstantTimeProvider();
        using var fake = new FakeRegistry { ThrottleRetryAfter = time.GetUtcNow().AddSeconds(5).ToString("R"), ThrottleEvery = 1, ThrottleStatus = 503 };
        var image = TestImage.Create(100);
        using var client = new RegistryClient(fake.Host, Options(time, TimeSpan.FromSeconds(20)));
        var blob = image.Manifest.Layers[0];

        var e = await Assert.ThrowsAsync<RegistryException>(() => client.PushBlobAsync("kiln/x", blob, () => new MemoryStream(image.Blobs[blob.Digest])));

        Assert.Equal(RegistryFailure.Throttled, e.Failure);
        Assert.Contains("503", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    public async Task UploadBlob_SourceIsNotTheBlob_RefusedBeforeTheUploadCompletes(long chunkSize)
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(5000);
        var blob = image.Manifest.Layers[0];
        var corrupt = (byte[])image.Blobs[blob.Digest].Clone();
        corrupt[^1] ^= 0x01;
        var time = new InstantTimeProvider();
        using var client = new RegistryClient(fake.Host, Options(time, chunkSize: chunkSize));

        var e = await Assert.ThrowsAsync<ContentMismatchException>(() => client.PushBlobAsync("kiln/x", blob, () => new MemoryStream(corrupt)));

        Assert.Equal(blob, e.Expected);
        Assert.Contains(Digest.Sha256(corrupt).ToString(), e.Message);
        Assert.False(fake.HasBlob("kiln/x", blob.Digest));
        if (chunkSize > 0)
        {
            Assert.DoesNotContain(fake.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal)); // the closing PUT never went out
        }

        Assert.Empty(time.Waits); // refused, not retried
    }
}
