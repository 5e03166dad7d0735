using System.Text;
using Kiln.Oci;
using Kiln.Oci.Registry;
using Kiln.Tests.Registry;

namespace Kiln.Oci.Tests.Registry;

/// <summary>The distribution client against a real CNCF registry (docker-registry) on 127.0.0.1.</summary>
public sealed class RegistryClientTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "kiln-registry-tests-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_temp))
        {
            Directory.Delete(_temp, recursive: true);
        }
    }

    private static void RequireTool(string tool, string package)
    {
        Kiln.Tests.Shared.ToolPolicy.Unavailable($"'{tool}' is not installed (Debian package {package}); this test needs it.");
    }

    private static RegistryClientOptions Fast(RegistryClientOptions? options = null) => (options ?? new RegistryClientOptions()) with
    {
        RetryBudget = TimeSpan.FromSeconds(2),
        InitialBackoff = TimeSpan.FromMilliseconds(20),
    };

    private static async Task PushAsync(RegistryClient client, string repository, TestImage image, string tag)
    {
        foreach (var blob in image.BlobDescriptors)
        {
            await client.PushBlobAsync(repository, blob, () => new MemoryStream(image.Blobs[blob.Digest]));
        }

        await client.PutManifestAsync(repository, image.Digest.ToString(), MediaTypes.ImageManifest, image.ManifestBytes);
        await client.PutManifestAsync(repository, tag, MediaTypes.ImageManifest, image.ManifestBytes);
    }

    [SkippableFact]
    public async Task PushThenPull_RealRegistry_ContentAndDigestsMatch()
    {
        using var registry = RegistryServer.Start();
        using var client = new RegistryClient(registry.Host, Fast());
        var image = TestImage.Create(1000, 200_000);
        await PushAsync(client, "kiln/roundtrip", image, "1.0.0");

        var (descriptor, content) = await client.GetManifestAsync("kiln/roundtrip", "1.0.0");
        Assert.Equal(image.Digest, descriptor.Digest);
        Assert.Equal(image.ManifestBytes, content);
        foreach (var blob in image.BlobDescriptors)
        {
            using var buffer = new MemoryStream();
            await client.DownloadBlobAsync("kiln/roundtrip", blob, buffer);
            Assert.Equal(image.Blobs[blob.Digest], buffer.ToArray());
        }

        Assert.Equal(image.Digest, (await client.HeadManifestAsync("kiln/roundtrip", "1.0.0"))!.Digest);
        Assert.Null(await client.HeadManifestAsync("kiln/roundtrip", "2.0.0"));
    }

    [SkippableFact]
    public async Task PushBlob_SecondTime_SendsZeroBytes()
    {
        using var registry = RegistryServer.Start();
        var image = TestImage.Create(50_000, 70_000);
        var first = new CountingHandler();
        using (var client = new RegistryClient(registry.Host, Fast() with { Handler = first }))
        {
            await PushAsync(client, "kiln/again", image, "1");
        }

        var second = new CountingHandler();
        using (var client = new RegistryClient(registry.Host, Fast() with { Handler = second }))
        {
            await PushAsync(client, "kiln/again", image, "1");
            Assert.Equal(0, client.BytesUploaded);
        }

        Assert.Equal(image.Blobs.Values.Sum(b => (long)b.Length), first.UploadBytes);
        Assert.Equal(0, second.UploadBytes);
    }

    [SkippableFact]
    public async Task UploadBlob_LargerThanChunkSize_UploadedInChunksAndReadable()
    {
        using var registry = RegistryServer.Start();
        var events = new List<TransferEvent>();
        using var client = new RegistryClient(registry.Host, Fast() with { ChunkSize = 64 * 1024, Observer = e => { lock (events) { events.Add(e); } } });
        var image = TestImage.Create(300_000);
        await PushAsync(client, "kiln/chunked", image, "1");

        var layer = image.Manifest.Layers[0];
        Assert.Equal(5, events.Count(e => e.Kind == TransferKind.Uploading && e.Digest == layer.Digest)); // 4 × 64 KiB + rest
        using var buffer = new MemoryStream();
        await client.DownloadBlobAsync("kiln/chunked", layer, buffer);
        Assert.Equal(image.Blobs[layer.Digest], buffer.ToArray());
    }

    [SkippableFact]
    public async Task MountBlob_FromAnotherRepository_MountedWithoutUpload()
    {
        using var registry = RegistryServer.Start();
        var counting = new CountingHandler();
        using var client = new RegistryClient(registry.Host, Fast() with { Handler = counting });
        var image = TestImage.Create(40_000);
        await PushAsync(client, "kiln/one", image, "1");
        var before = counting.UploadBytes;

        var layer = image.Manifest.Layers[0];
        Assert.False(await client.BlobExistsAsync("kiln/two", layer.Digest));
        Assert.True(await client.MountBlobAsync("kiln/two", layer.Digest, "kiln/one"));
        Assert.True(await client.BlobExistsAsync("kiln/two", layer.Digest));
        Assert.Equal(before, counting.UploadBytes);
    }

    [SkippableFact]
    public async Task GetManifest_UnknownDigest_NotFoundNamesRepository()
    {
        using var registry = RegistryServer.Start();
        using var client = new RegistryClient(registry.Host, Fast());
        var missing = Digest.Sha256("nothing"u8);
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync("kiln/none", missing.ToString()));
        Assert.Equal(RegistryFailure.NotFound, e.Failure);
        Assert.Contains("kiln/none", e.Message);
    }

    [SkippableFact]
    public async Task BasicAuth_NoCredentials_MissingNamesRegistryAndSources_ConfigJsonWorks_WrongPasswordRejected()
    {
        var htpasswd = RegistryServer.Htpasswd(Path.Combine(_temp, "auth"), "kiln", "s3cret-pw");
        if (htpasswd is null)
        {
            RequireTool("htpasswd", "apache2-utils");
        }

        using var registry = RegistryServer.Start(htpasswd);
        var config = Path.Combine(_temp, "docker", "config.json");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        var image = TestImage.Create(1234);

        using (var anonymous = new RegistryClient(registry.Host, Fast() with { Credentials = new DockerConfigCredentials(config) }))
        {
            var e = await Assert.ThrowsAsync<RegistryException>(() => PushAsync(anonymous, "kiln/auth", image, "1"));
            Assert.Equal(RegistryFailure.CredentialsMissing, e.Failure);
            Assert.Contains(registry.Host, e.Message);
            Assert.Contains(config, e.Message);
        }

        File.WriteAllText(config, AuthsJson(registry.Host, "kiln:wrong-pw"));
        using (var wrong = new RegistryClient(registry.Host, Fast() with { Credentials = new DockerConfigCredentials(config) }))
        {
            var e = await Assert.ThrowsAsync<RegistryException>(() => PushAsync(wrong, "kiln/auth", image, "1"));
            Assert.Equal(RegistryFailure.CredentialsRejected, e.Failure);
            Assert.DoesNotContain("wrong-pw", e.Message);
        }

        File.WriteAllText(config, AuthsJson(registry.Host, "kiln:s3cret-pw"));
        using (var client = new RegistryClient(registry.Host, Fast() with { Credentials = new DockerConfigCredentials(config) }))
        {
            await PushAsync(client, "kiln/auth", image, "1");
            Assert.Equal(image.Digest, (await client.GetManifestAsync("kiln/auth", "1")).Descriptor.Digest);
        }
    }

    [SkippableFact]
    public async Task Tls_SelfSignedCertificate_RefusedUntilItsCaIsTrusted()
    {
        var pair = RegistryServer.SelfSignedCertificate(Path.Combine(_temp, "tls"));
        if (pair is null)
        {
            RequireTool("openssl", "openssl");
        }

        using var registry = RegistryServer.Start(certificate: pair!.Value.Certificate, key: pair.Value.Key);
        var image = TestImage.Create(2048);
        using (var untrusting = new RegistryClient(registry.Host, Fast()))
        {
            var e = await Assert.ThrowsAsync<RegistryException>(() => PushAsync(untrusting, "kiln/tls", image, "1"));
            Assert.Equal(RegistryFailure.Unreachable, e.Failure);
            Assert.Contains("not trusted", e.Message);
        }

        using var client = new RegistryClient(registry.Host, Fast() with { CaCertificateFile = pair.Value.Certificate });
        await PushAsync(client, "kiln/tls", image, "1");
        Assert.Equal(image.Digest, (await client.GetManifestAsync("kiln/tls", "1")).Descriptor.Digest);
    }

    [SkippableFact]
    public async Task Push_RegistryStoppedMidPush_FailsUnreachableThenNextPushCompletes()
    {
        using var registry = RegistryServer.Start();
        var image = TestImage.Create(100_000, 100_000, 100_000);
        var handler = new CountingHandler();
        var uploads = 0;
        handler.BeforeSend = request =>
        {
            // The second blob upload finds the registry gone: the push is interrupted half-way.
            if (request.Method == HttpMethod.Put && request.RequestUri!.AbsolutePath.Contains("/blobs/uploads/", StringComparison.Ordinal) && ++uploads == 2)
            {
                registry.Stop();
            }
        };
        using (var client = new RegistryClient(registry.Host, Fast() with { Handler = handler }))
        {
            var e = await Assert.ThrowsAsync<RegistryException>(() => PushAsync(client, "kiln/interrupted", image, "1"));
            Assert.Equal(RegistryFailure.Unreachable, e.Failure);
            Assert.Contains(registry.Host, e.Message);
        }

        registry.Resume();
        using (var client = new RegistryClient(registry.Host, Fast()))
        {
            await PushAsync(client, "kiln/interrupted", image, "1");
            Assert.Equal(image.Digest, (await client.GetManifestAsync("kiln/interrupted", "1")).Descriptor.Digest);
            Assert.True(client.BytesUploaded < image.Blobs.Values.Sum(b => (long)b.Length), "the blob pushed before the interruption is not sent again");
        }
    }

    [Fact]
    public async Task DownloadBlob_WrongContent_RefusedAsMismatch()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(5000);
        fake.Serve("kiln/bad", image.Manifest, image.Blobs);
        var layer = image.Manifest.Layers[0];
        var tampered = (byte[])image.Blobs[layer.Digest].Clone();
        tampered[100] ^= 0xFF;
        fake.Corrupt("kiln/bad", layer.Digest, tampered);
        using var client = new RegistryClient(fake.Host, Fast());

        var (descriptor, _) = await client.GetManifestAsync("kiln/bad", image.Digest.ToString());
        Assert.Equal(image.Digest, descriptor.Digest);
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.DownloadBlobAsync("kiln/bad", layer, new MemoryStream()));
        Assert.Equal(RegistryFailure.ContentMismatch, e.Failure);
    }

    [Fact]
    public async Task GetManifest_ServedUnderAnotherDigest_RefusedAsMismatch()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(10);
        fake.Serve("kiln/bad", image.Manifest, image.Blobs);
        using var client = new RegistryClient(fake.Host, Fast());
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync("kiln/bad", Digest.Sha256("other"u8).ToString()));
        Assert.Equal(RegistryFailure.NotFound, e.Failure); // unknown digest: 404, never someone else's content
    }

    [Fact]
    public async Task Send_ServiceUnavailableTwice_RetriedAndSucceeds()
    {
        using var fake = new FakeRegistry();
        var image = TestImage.Create(10);
        fake.Serve("kiln/flaky", image.Manifest, image.Blobs);
        using var client = new RegistryClient(fake.Host, Fast());
        await client.GetManifestAsync("kiln/flaky", image.Digest.ToString()); // settles the scheme first
        fake.FailNext(2);
        var (descriptor, _) = await client.GetManifestAsync("kiln/flaky", image.Digest.ToString());
        Assert.Equal(image.Digest, descriptor.Digest);
    }

    [Fact]
    public async Task Send_Cancelled_ThrowsOperationCanceled()
    {
        using var fake = new FakeRegistry();
        using var client = new RegistryClient(fake.Host, Fast());
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetManifestAsync("kiln/x", "1", cancelled.Token));
    }

    [Fact]
    public async Task TokenFlow_BearerChallenge_TokenFetchedWithBasicCredentialsAndScope()
    {
        using var fake = new FakeRegistry { Bearer = ("bot", "pw", "tok-123") };
        var image = TestImage.Create(10);
        fake.Serve("kiln/private", image.Manifest, image.Blobs);
        var credentials = new StaticCredentials(new RegistryCredential("bot", "pw"), fake.Host, "test credentials");
        using var client = new RegistryClient(fake.Host, Fast() with { Credentials = credentials });

        var (descriptor, _) = await client.GetManifestAsync("kiln/private", image.Digest.ToString());

        Assert.Equal(image.Digest, descriptor.Digest);
        var query = Assert.Single(fake.TokenQueries);
        Assert.Contains("service=fake-registry", query);
        Assert.Contains("scope=" + Uri.EscapeDataString("repository:kiln/private:pull"), query);
    }

    [Fact]
    public async Task TokenFlow_NoCredentials_TokenRefused_CredentialsMissing()
    {
        using var fake = new FakeRegistry { Bearer = ("bot", "pw", "tok-123") };
        using var client = new RegistryClient(fake.Host, Fast());
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync("kiln/private", "1"));
        Assert.Equal(RegistryFailure.CredentialsMissing, e.Failure);
    }

    [Fact]
    public void AllowsPlainHttp_LoopbackOrListed_OthersNot()
    {
        var options = new RegistryClientOptions { InsecureRegistries = ["registry.lan:5000"] };
        Assert.True(options.AllowsPlainHttp("127.0.0.1:5000"));
        Assert.True(options.AllowsPlainHttp("localhost:5000"));
        Assert.True(options.AllowsPlainHttp("[::1]:5000"));
        Assert.True(options.AllowsPlainHttp("registry.lan:5000"));
        Assert.False(options.AllowsPlainHttp("registry.lan"));
        Assert.False(options.AllowsPlainHttp("ghcr.io"));
    }

    private static string AuthsJson(string host, string userColonPassword) =>
        "{\"auths\":{\"" + host + "\":{\"auth\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes(userColonPassword)) + "\"}}}";
}
