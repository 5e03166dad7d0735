using System.Collections.Immutable;
using Kiln.Spec;

namespace KilnServers.Specs;

/// <summary>
/// The server: its image is everything below, and nothing else. Change a line, bump <see cref="Version"/>, build.
/// </summary>
public sealed class WebServer : ServerSpec
{
    public override string Name => "web";

    public override string Version => "1.0.0";

#if (IsDebian)
    // Distroless: the packages' files, no shell, no package manager. kiln.lock.json (commit it) pins the versions.
    public override BaseImage Base => BaseImage.Debian("bookworm", ["busybox-static"]);
#elif (IsScratch)
    // Nothing at all: add your statically linked server, e.g. Layer.File("server", to: "/server", mode: FilePermissions.Executable).
    public override BaseImage Base => BaseImage.Scratch;
#else
    // Pinned by digest: the digest is the base's identity, the tag only a name for people.
    public override BaseImage Base => BaseImage.Registry("registry.example.com/base/runtime:1.0.0@sha256:0000000000000000000000000000000000000000000000000000000000000000");
#endif

    public override ImmutableArray<Layer> Layers =>
    [
        Layer.File("www/index.html", to: "/srv/www/index.html"),
    ];

    public override Account Account => Account.NonRoot("web", uid: 10001);

#if (IsDebian)
    public override Entrypoint Entrypoint => new("/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/srv/www");
#else
    public override Entrypoint Entrypoint => new("/server", "--port", "8080", "--root", "/srv/www");
#endif

    public override ImmutableArray<Port> Ports => [Port.Tcp(8080, "http")];

    public override HealthCheck Health => HealthCheck.Http(8080, "/");

    public override Limits Limits => new() { OpenFiles = 4_096 };
}
