using System.Security.Cryptography;
using Kiln.Oci;

namespace Kiln.Tests.Registry;

/// <summary>A small image with random layers (the registry does not look inside layers), held in memory.</summary>
internal sealed record TestImage(ImageManifest Manifest, byte[] ManifestBytes, Digest Digest, Dictionary<Digest, byte[]> Blobs)
{
    public static TestImage Create(params int[] layerSizes)
    {
        var blobs = new Dictionary<Digest, byte[]>();
        var layers = new List<Descriptor>();
        foreach (var size in layerSizes)
        {
            var content = RandomNumberGenerator.GetBytes(size);
            var digest = Digest.Sha256(content);
            blobs[digest] = content;
            layers.Add(new Descriptor(MediaTypes.LayerTarGzip, digest, size));
        }

        var config = new ImageConfig
        {
            Created = "1970-01-01T00:00:00Z",
            Config = new ContainerConfig { Cmd = ["/bin/true"] },
            DiffIds = [.. layers.Select(l => l.Digest)],
        }.ToJson();
        var configDigest = Digest.Sha256(config);
        blobs[configDigest] = config;
        var manifest = new ImageManifest { Config = new Descriptor(MediaTypes.ImageConfig, configDigest, config.Length), Layers = [.. layers] };
        var bytes = manifest.ToJson();
        return new TestImage(manifest, bytes, Digest.Sha256(bytes), blobs);
    }

    public IEnumerable<Descriptor> BlobDescriptors => Manifest.Layers.Prepend(Manifest.Config);
}

/// <summary>Counts the blob bytes a client actually sends (PUT/PATCH bodies of uploads): an independent check of "nothing re-uploaded".</summary>
internal sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    private long _bytes;

    public long UploadBytes => Interlocked.Read(ref _bytes);

    public Action<HttpRequestMessage>? BeforeSend { get; set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        BeforeSend?.Invoke(request);
        if ((request.Method == HttpMethod.Put || request.Method == HttpMethod.Patch) && request.RequestUri!.AbsolutePath.Contains("/blobs/uploads/", StringComparison.Ordinal))
        {
            Interlocked.Add(ref _bytes, request.Content?.Headers.ContentLength ?? 0);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
