using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// Base layers are validated as an unpacker would apply them, never trusted: hand-written hostile layers are each
/// refused with their code by a real <c>dotnet build</c>, before anything is written.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class HostileBaseTests(KilnPackage package)
{
    private static string Server(string name, string baseExpression) => $$"""
        public sealed class {{name}} : ServerSpec
        {
            public override string Name => "{{name.ToLowerInvariant()}}";
            public override string Version => "1.0.0";
            public override BaseImage Base => {{baseExpression}};
            public override ImmutableArray<Layer> Layers => [Layer.File("app.txt", to: "/srv/app.txt")];
            public override Entrypoint Entrypoint => new("/bin/true");
        }

        """;

    [Fact]
    public void Build_HostileBases_EachRefusedWithItsCodeAndNothingWritten()
    {
        var fixture = new FixtureProject(package)
            .Write("app.txt", "app\n")
            .Specs(
                Server("Escape", """BaseImage.OciLayout("bases/escape", "evil:1")""") +
                Server("HardLink", """BaseImage.OciLayout("bases/hardlink", "evil:1")""") +
                Server("Through", """BaseImage.OciLayout("bases/through", "evil:1")""") +
                Server("Device", """BaseImage.OciLayout("bases/device", "evil:1")"""));
        HostileLayouts.Escape(Path.Combine(fixture.Directory, "bases", "escape"));
        HostileLayouts.HardLinkOut(Path.Combine(fixture.Directory, "bases", "hardlink"));
        HostileLayouts.WriteThroughSymlink(Path.Combine(fixture.Directory, "bases", "through"));
        HostileLayouts.Device(Path.Combine(fixture.Directory, "bases", "device"));

        var result = fixture.Build();

        Assert.True(result.ExitCode != 0, result.Output);
        var errors = result.Output.Split('\n').Where(l => l.Contains(": error KILN", StringComparison.Ordinal)).Distinct().ToList();
        Assert.Contains(errors, l => l.Contains("error KILN2130", StringComparison.Ordinal) && l.Contains("'Fixture.Escape'", StringComparison.Ordinal) && l.Contains("../escape.txt", StringComparison.Ordinal));
        Assert.Contains(errors, l => l.Contains("error KILN2131", StringComparison.Ordinal) && l.Contains("'Fixture.HardLink'", StringComparison.Ordinal) && l.Contains("../../etc/passwd", StringComparison.Ordinal));
        Assert.Contains(errors, l => l.Contains("error KILN2132", StringComparison.Ordinal) && l.Contains("'Fixture.Through'", StringComparison.Ordinal) && l.Contains("/app/etc/x", StringComparison.Ordinal));
        Assert.Contains(errors, l => l.Contains("error KILN2133", StringComparison.Ordinal) && l.Contains("'Fixture.Device'", StringComparison.Ordinal) && l.Contains("/dev/sda", StringComparison.Ordinal));
        // The error points at the spec's Base property, where the fix goes.
        Assert.All(errors.Where(l => l.Contains("KILN213", StringComparison.Ordinal)), l => Assert.Contains("Specs.cs(", l, StringComparison.Ordinal));
        Assert.False(File.Exists(fixture.ReleasePath), "a refused base must leave no release.json");
        Assert.False(Directory.Exists(Path.Combine(fixture.OutputDirectory, "manifests")), "a refused base must leave no manifests");
    }

    [Fact]
    public void Build_DeviceBaseWithOptIn_BuildsAndTheInventoryListsTheDevice()
    {
        var fixture = new FixtureProject(package)
            .Write("app.txt", "app\n")
            .Specs(Server("Device", """BaseImage.OciLayout("bases/device", "evil:1") with { AllowSpecialFiles = true }"""));
        HostileLayouts.Device(Path.Combine(fixture.Directory, "bases", "device"));

        fixture.BuildOk();

        var inventory = File.ReadAllLines(Path.Combine(fixture.OutputDirectory, "inventory", "device-1.0.0.txt"));
        Assert.Contains("/dev/sda\ts\t0660\t0\t0\t0\t-\t-", inventory);
        Assert.Contains(inventory, l => l.StartsWith("/srv/app.txt\tf\t", StringComparison.Ordinal));
    }
}
