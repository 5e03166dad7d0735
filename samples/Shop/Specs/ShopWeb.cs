using System.Collections.Immutable;
using Kiln.Spec;

namespace Shop.Specs;

/// <summary>The storefront: a small server for the static web front end.</summary>
public sealed class ShopWeb : ServerSpec
{
    public override string Name => "shop-web";

    public override string Version => "1.2.0";

    public override BaseImage Base => ShopBase.Runtime;

    public override ImmutableArray<Platform> Platforms => ShopBase.Platforms;

    public override ImmutableArray<Layer> Layers =>
    [
        Layer.PublishOutput("src/Shop.Web/Shop.Web.csproj", to: "/app", selfContained: true),
    ];

    public override Account Account => Account.NonRoot("web", uid: 10002);

    public override string WorkingDirectory => "/app";

    public override Entrypoint Entrypoint => new("/app/Shop.Web", "--urls", "http://+:8081");

    public override ImmutableArray<Port> Ports => [Port.Tcp(8081, "http")];

    public override HealthCheck Health => HealthCheck.Http(8081, "/healthz");

    public override Limits Limits => new() { OpenFiles = 16_384 };
}
