using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// <c>kiln init --from-publish-container</c> on a real SDK-style app that PublishContainer settings describe: the spec
/// project it writes builds, without a single analyzer warning, into an image whose config says what those settings said.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class InitFromPublishContainerTests(KilnPackage package)
{
    private const string AppProject = """
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ContainerRepository>acme/orders-api</ContainerRepository>
            <ContainerImageTag>2.3.4</ContainerImageTag>
            <ContainerWorkingDirectory>/srv/orders/</ContainerWorkingDirectory>
            <ContainerUser>1654</ContainerUser>
            <ContainerRegistry>registry.example.com</ContainerRegistry>
          </PropertyGroup>
          <ItemGroup>
            <ContainerPort Include="8080" Type="tcp" />
            <ContainerPort Include="5353" Type="udp" />
            <ContainerEnvironmentVariable Include="ASPNETCORE_URLS" Value="http://+:8080" />
            <ContainerEnvironmentVariable Include="GREETING" Value="hello &quot;world&quot;" />
            <ContainerLabel Include="org.opencontainers.image.vendor" Value="Acme" />
            <ContainerAppCommandArgs Include="--serve" />
            <ContainerDefaultArgs Include="--verbose" />
          </ItemGroup>
        </Project>
        """;

    [Fact]
    public void Init_PublishContainerApp_WritesASpecProjectThatBuildsTheSameImageConfig()
    {
        var root = Path.Combine(package.Root, "projects", "init-" + Guid.NewGuid().ToString("N")[..8]);
        var app = Path.Combine(root, "Orders.Api");
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "Orders.Api.csproj"), AppProject);
        File.WriteAllText(Path.Combine(app, "Program.cs"), "System.Console.WriteLine(\"orders\");\n");
        // The spec project restores only from the test's feed; FixtureProject writes that nuget.config (and a project
        // file of its own, removed here so that init writes the real one).
        var specs = Path.Combine(root, "Orders.Api.Kiln");
        var fixture = new FixtureProject(package, "Orders.Api.Kiln", specs);
        File.Delete(Path.Combine(specs, "Orders.Api.Kiln.csproj"));
        EnsureEngineInCache();

        var init = KilnCli.Run(package, root, "init", "--from-publish-container", Path.Combine(app, "Orders.Api.csproj"), "--base", "scratch");

        Assert.True(init.ExitCode == 0, init.Output);
        Assert.True(File.Exists(Path.Combine(specs, "Orders.Api.Kiln.csproj")), init.Output);
        var specFile = Path.Combine(specs, "OrdersApiServer.cs");
        Assert.True(File.Exists(specFile), init.Output);
        Assert.Contains("<KilnRegistry>registry.example.com</KilnRegistry>", File.ReadAllText(Path.Combine(specs, "Orders.Api.Kiln.csproj")), StringComparison.Ordinal);

        // Formatted as dotnet format would leave it.
        var format = ProcessRunner.Run("dotnet", ["format", "whitespace", specs, "--folder", "--verify-no-changes", "-v", "diag"], specs, timeout: TimeSpan.FromMinutes(4));
        Assert.True(format.ExitCode == 0, "dotnet format would change the generated spec:\n" + format.Output + "\n" + File.ReadAllText(specFile));

        var build = fixture.BuildOk("-p:KilnAnalysisMode=strict");
        Assert.DoesNotContain("KILN0", build.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("KILN2210", build.Output, StringComparison.Ordinal);
        // The app still carries its PublishContainer settings, which this image does not read: said once per setting.
        Assert.Contains("warning KILN2211: 'ContainerPort'", build.Output, StringComparison.Ordinal);

        var layout = Kiln.Oci.OciLayout.Open(fixture.LayoutDirectory);
        var manifest = layout.ReadManifest(Kiln.Oci.Digest.Parse(fixture.ReadRelease().Digests["orders-api:2.3.4"]));
        var config = layout.ReadConfig(manifest.Config.Digest).Config;
        Assert.Equal("1654:1654", config.User);
        Assert.Equal("/srv/orders", config.WorkingDir);
        Assert.Equal(["/srv/orders/Orders.Api", "--serve"], config.Entrypoint.ToArray());
        Assert.Equal(["--verbose"], config.Cmd.ToArray());
        Assert.Equal(["5353/udp", "8080/tcp"], config.ExposedPorts.ToArray());
        Assert.Contains("ASPNETCORE_URLS=http://+:8080", config.Env);
        Assert.Contains("GREETING=hello \"world\"", config.Env);
        Assert.Equal("Acme", config.Labels["org.opencontainers.image.vendor"]);
        var inventory = File.ReadAllLines(Path.Combine(fixture.OutputDirectory, "inventory", "orders-api-2.3.4.txt"));
        Assert.Contains(inventory, l => l.StartsWith("/srv/orders/Orders.Api\tf\t0755", StringComparison.Ordinal));

        // A second init finds its files and writes nothing.
        var before = File.ReadAllText(specFile);
        var again = KilnCli.Run(package, root, "init", "--from-publish-container", Path.Combine(app, "Orders.Api.csproj"), "--base", "scratch");
        Assert.Equal(16, again.ExitCode);
        Assert.Contains("error KILN2214", again.Output, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(specFile));
    }

    [Fact]
    public void Build_SpecProjectSetsContainerSettings_WarnsOncePerSettingButNotInADesignTimeBuild()
    {
        var fixture = new FixtureProject(package, "Settings").Specs("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "settings-api";
                public override string Version => "1.0.0";
            }
            """);
        fixture.Write("Directory.Build.props", """
            <Project>
              <PropertyGroup>
                <ContainerUser>app</ContainerUser>
              </PropertyGroup>
              <ItemGroup>
                <ContainerPort Include="8080" />
                <ContainerPort Include="8081" />
              </ItemGroup>
            </Project>
            """);

        var designTime = fixture.MSBuild("-restore", "-t:Compile", "-p:DesignTimeBuild=true", "-p:SkipCompilerExecution=true", "-p:ProvideCommandLineArgs=true");
        var build = fixture.BuildOk();

        Assert.True(designTime.ExitCode == 0, designTime.Output);
        Assert.DoesNotContain("KILN2210", designTime.Output, StringComparison.Ordinal);
        Assert.Contains("warning KILN2210: 'ContainerUser' is a setting of the .NET SDK's PublishContainer, which Kiln does not read. In Kiln: ServerSpec.Account", build.Output, StringComparison.Ordinal);
        // Two ContainerPort items are one setting: one warning where it is logged ("1>…"; the summary at the end repeats it).
        Assert.Single(build.Output.Split('\n'), l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s*\d+>.*warning KILN2210: 'ContainerPort'"));
    }

    [Fact]
    public void Init_NotAProject_IsCodedErrorAndWritesNothing()
    {
        var root = Path.Combine(package.Root, "projects", "init-missing-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        EnsureEngineInCache();

        var result = KilnCli.Run(package, root, "init", "--from-publish-container", Path.Combine(root, "Missing.csproj"));

        Assert.Equal(16, result.ExitCode);
        Assert.Contains("error KILN2212", result.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root));
    }

    /// <summary>KilnCli runs the packed engine from the package cache, which a restore of any fixture fills.</summary>
    private void EnsureEngineInCache()
    {
        if (!Directory.Exists(Path.Combine(package.Packages, "kiln.build")))
        {
            var seed = new FixtureProject(package, "Seed");
            var restore = seed.MSBuild("-t:Restore");
            Assert.True(restore.ExitCode == 0, restore.Output);
        }
    }
}
