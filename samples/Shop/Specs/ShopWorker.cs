using System.Collections.Immutable;
using Kiln.Spec;

namespace Shop.Specs;

/// <summary>The background worker that settles orders.</summary>
public sealed class ShopWorker : ServerSpec
{
    public override string Name => "shop-worker";

    public override string Version => "1.2.0";

    public override BaseImage Base => ShopBase.Runtime;

    public override ImmutableArray<Platform> Platforms => ShopBase.Platforms;

    public override ImmutableArray<Layer> Layers =>
    [
        Layer.PublishOutput("src/Shop.Worker/Shop.Worker.csproj", to: "/app", selfContained: true),
    ];

    public override Account Account => Account.NonRoot("worker", uid: 10003);

    public override string WorkingDirectory => "/app";

    public override Entrypoint Entrypoint => new("/app/Shop.Worker");

    public override ImmutableArray<EnvironmentVariable> Environment => [new("SHOP_SETTLE_INTERVAL_SECONDS", "5")];

    public override HealthCheck Health => HealthCheck.Command("/app/Shop.Worker", "--health");

    public override Limits Limits => new() { OpenFiles = 4_096, Processes = 64 };

    public override ImmutableArray<string> Volumes => ["/var/lib/shop-worker"];
}
