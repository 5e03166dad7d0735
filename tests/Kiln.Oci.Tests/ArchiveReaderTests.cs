using System.Text;

namespace Kiln.Oci.Tests;

public class ArchiveReaderTests
{
    [ToolFact("tar")]
    public void ImportInto_OciArchive_ImportsTaggedImage()
    {
        using var dir = new TempDir();
        var source = OciLayout.OpenOrCreate(dir.Combine("src"));
        var written = ImageLayoutIntegrationTests.WriteOneLayerImage(source, "base:1");
        Tools.Sh("tar -C src -cf oci.tar oci-layout index.json blobs", dir.Path);
        var target = OciLayout.OpenOrCreate(dir.Combine("dst"));
        ArchiveReader.ImportInto(dir.Combine("oci.tar"), target, "base:1", out var manifest);
        Assert.Equal(written.Digest, manifest.Digest);
        Assert.Null(manifest.Annotations);
        var image = target.ReadManifest(manifest.Digest);
        Assert.All(image.Layers, l => Assert.True(target.Contains(l.Digest)));
        ArchiveReader.ImportInto(dir.Combine("oci.tar"), target, null, out var only);
        Assert.Equal(manifest, only);
        Assert.Throws<OciFormatException>(() => ArchiveReader.ImportInto(dir.Combine("oci.tar"), target, "other:2", out _));
    }

    [ToolFact("tar", "gzip")]
    public void ImportInto_DockerArchive_ConvertsToOciManifest()
    {
        using var dir = new TempDir();
        // A docker-save style archive: one uncompressed layer, one gzip layer, a config naming both diff_ids.
        dir.WriteFile("rootfs1/etc/os-release", "ID=test\n");
        dir.WriteFile("rootfs2/bin/tool", "#!/bin/sh\n");
        Tools.Sh("mkdir -p a/l1 a/l2 && tar -C rootfs1 -cf a/l1/layer.tar etc && tar -C rootfs2 -cf - bin | gzip -n > a/l2/layer.tar", dir.Path);
        string diff1 = Tools.Sh("sha256sum a/l1/layer.tar", dir.Path).Split(' ')[0];
        string diff2 = Tools.Sh("gzip -dc a/l2/layer.tar | sha256sum", dir.Path).Split(' ')[0];
        dir.WriteFile("a/cfg.json", $$$"""{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:{{{diff1}}}","sha256:{{{diff2}}}"]}}""");
        dir.WriteFile("a/manifest.json", """[{"Config":"cfg.json","RepoTags":["busybox:1.36"],"Layers":["l1/layer.tar","l2/layer.tar"]}]""");
        Tools.Sh("tar -C a -cf docker.tar manifest.json cfg.json l1 l2", dir.Path);

        var target = OciLayout.OpenOrCreate(dir.Combine("dst"));
        ArchiveReader.ImportInto(dir.Combine("docker.tar"), target, "docker.io/library/busybox:1.36", out var descriptor);
        Assert.Equal(MediaTypes.ImageManifest, descriptor.MediaType);
        var manifest = target.ReadManifest(descriptor.Digest);
        Assert.Equal(MediaTypes.LayerTar, manifest.Layers[0].MediaType);
        Assert.Equal(MediaTypes.LayerTarGzip, manifest.Layers[1].MediaType);
        Assert.Equal("sha256:" + diff1, manifest.Layers[0].Digest.ToString());
        Assert.Equal(new FileInfo(dir.Combine("a/l2/layer.tar")).Length, manifest.Layers[1].Size);
        Assert.Equal(["sh"], target.ReadConfig(manifest.Config.Digest).Config.Cmd.ToArray());
        Assert.Throws<OciFormatException>(() => ArchiveReader.ImportInto(dir.Combine("docker.tar"), target, "alpine:3", out _));
    }

    [ToolFact("tar")]
    public void ImportInto_NeitherFormat_ThrowsOciFormatException()
    {
        using var dir = new TempDir();
        dir.WriteFile("x/readme", "hi");
        Tools.Sh("tar -C x -cf x.tar readme", dir.Path);
        var target = OciLayout.OpenOrCreate(dir.Combine("dst"));
        Assert.Throws<OciFormatException>(() => ArchiveReader.ImportInto(dir.Combine("x.tar"), target, null, out _));
        File.WriteAllText(dir.Combine("bad.tar"), new string('q', 3000), Encoding.ASCII);
        Assert.Throws<OciFormatException>(() => ArchiveReader.ImportInto(dir.Combine("bad.tar"), target, null, out _));
    }
}
