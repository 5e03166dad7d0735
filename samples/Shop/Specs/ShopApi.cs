using System.Collections.Immutable;
using Kiln.Spec;

namespace Shop.Specs;

/// <summary>The catalogue and orders HTTP API.</summary>
public sealed class ShopApi : ServerSpec
{
    public override string Name => "shop-api";

    public override string Version => "1.2.0";

    public override BaseImage Base => ShopBase.Runtime;

    public override ImmutableArray<Platform> Platforms => ShopBase.Platforms;

    public override ImmutableArray<Layer> Layers =>
    [
        Layer.PublishOutput("src/Shop.Api/Shop.Api.csproj", to: "/app", selfContained: true),
        Layer.File("config/appsettings.Production.json", to: "/app/appsettings.Production.json"),
    ];

    public override Account Account => Account.NonRoot("shop", uid: 10001);

    public override string WorkingDirectory => "/app";

    public override Entrypoint Entrypoint => new("/app/Shop.Api", "--urls", "http://+:8080");

    public override ImmutableArray<EnvironmentVariable> Environment =>
    [
        new("ASPNETCORE_ENVIRONMENT", "Production"),
        new("DOTNET_gcServer", "0"),
    ];

    public override ImmutableArray<Port> Ports => [Port.Tcp(8080, "http")];

    public override HealthCheck Health => HealthCheck.Http(8080, "/healthz");

    public override Limits Limits => new() { OpenFiles = 65_536, Processes = 512 };

    public override ImmutableArray<string> Volumes => ["/tmp"];

    public override ImmutableArray<Label> Labels => [new("org.opencontainers.image.vendor", "Shop")];
}
