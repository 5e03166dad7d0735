using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Spec;

namespace Kiln.Engine.Tests.Evaluation;

/// <summary>
/// SpecValidator on resolved values built directly (no assembly, no process): each bad value gives its KILN2xxx code, a
/// message that names the spec type, and the location of the property when evaluation knew it.
/// </summary>
public sealed class SpecValidatorTests
{
    private const string SpecType = "Acme.Specs.OrdersApi";

    [Fact]
    public void Validate_CompleteValidServer_ReportsNothing()
    {
        var diagnostics = Validate(Valid());

        Assert.Empty(diagnostics.Items);
    }

    [Theory]
    [InlineData("Orders-Api")]
    [InlineData("orders api")]
    [InlineData("-orders")]
    [InlineData("orders-")]
    [InlineData("orders..api")]
    [InlineData("orders/api")]
    [InlineData("")]
    public void Validate_InvalidName_ReportsKiln2003NamingTheSpec(string name)
    {
        var diagnostics = Validate(Valid() with { Name = name });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidName, $"'{name}'");
    }

    [Fact]
    public void Validate_NameLongerThan128_ReportsKiln2003()
    {
        var diagnostics = Validate(Valid() with { Name = new string('a', 129) });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidName);
    }

    [Theory]
    [InlineData("orders")]
    [InlineData("orders-api")]
    [InlineData("orders--api")]
    [InlineData("orders.api_v2")]
    [InlineData("a")]
    public void Validate_ValidName_IsAccepted(string name)
    {
        Assert.Empty(Validate(Valid() with { Name = name }).Items);
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("v1.0.0")]
    [InlineData("01.0.0")]
    [InlineData("1.0.0-")]
    [InlineData("1.0.0-01")]
    [InlineData("latest")]
    [InlineData("")]
    public void Validate_VersionNotSemVer_ReportsKiln2004NamingTheSpec(string version)
    {
        var diagnostics = Validate(Valid() with { Version = version });

        var diagnostic = AssertSingle(diagnostics, DiagnosticCodes.InvalidVersion, "SemVer 2.0");
        Assert.Contains($"'{version}'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_VersionWithBuildMetadata_ReportsKiln2004ExplainingTheTag()
    {
        var diagnostics = Validate(Valid() with { Version = "1.4.0+sha.5114f85" });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidVersion, "build metadata");
    }

    [Theory]
    [InlineData("0.0.0")]
    [InlineData("1.4.0")]
    [InlineData("2.0.0-rc.1")]
    [InlineData("1.0.0-alpha-1.x.7")]
    public void Validate_SemVerVersion_IsAccepted(string version)
    {
        Assert.Empty(Validate(Valid() with { Version = version }).Items);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Validate_PortOutOfRange_ReportsKiln2006NamingTheSpec(int number)
    {
        var diagnostics = Validate(Valid() with { Ports = [Port.Tcp(number)] });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidPort, $"port {number} is outside 1–65535");
    }

    [Fact]
    public void Validate_DuplicatePort_ReportsKiln2006Once()
    {
        var diagnostics = Validate(Valid() with { Ports = [Port.Tcp(8080, "http"), Port.Tcp(8080, "admin")] });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidPort, "8080/tcp is declared twice");
    }

    [Fact]
    public void Validate_SamePortNumberOverTcpAndUdp_IsAccepted()
    {
        Assert.Empty(Validate(Valid() with { Ports = [Port.Tcp(53), Port.Udp(53)] }).Items);
    }

    [Fact]
    public void Validate_RelativeLayerDestination_ReportsKiln2007NamingTheLayer()
    {
        var diagnostics = Validate(Valid() with { Layers = [Layer.File("appsettings.json", to: "app/appsettings.json")] });

        AssertSingle(diagnostics, DiagnosticCodes.PathNotAbsolute, "Layers[0] destination 'app/appsettings.json'");
    }

    [Fact]
    public void Validate_RelativeWorkingDirectory_ReportsKiln2007()
    {
        var diagnostics = Validate(Valid() with { WorkingDirectory = "app" });

        AssertSingle(diagnostics, DiagnosticCodes.PathNotAbsolute, "WorkingDirectory 'app'");
    }

    [Fact]
    public void Validate_RelativeVolume_ReportsKiln2024()
    {
        var diagnostics = Validate(Valid() with { Volumes = ["var/cache"] });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidVolume, "volume 'var/cache'");
    }

    [Fact]
    public void Validate_BackslashInPath_ReportsKiln2007()
    {
        var diagnostics = Validate(Valid() with { Layers = [Layer.Directory("wwwroot", to: "/app\\wwwroot")] });

        AssertSingle(diagnostics, DiagnosticCodes.PathNotAbsolute, "backslash");
    }

    [Theory]
    [InlineData("/app/../etc/passwd")]
    [InlineData("/..")]
    [InlineData("/app/..")]
    public void Validate_DotDotInDestination_ReportsKiln2008NamingTheSpec(string to)
    {
        var diagnostics = Validate(Valid() with { Layers = [Layer.File("passwd", to)] });

        AssertSingle(diagnostics, DiagnosticCodes.PathEscapesRoot, "'..'");
    }

    [Fact]
    public void Validate_DotsThatAreNotParentSegments_AreAccepted()
    {
        Assert.Empty(Validate(Valid() with { Layers = [Layer.File("x", "/app/..data/.x.")] }).Items);
    }

    [Fact]
    public void Validate_DuplicateEnvironmentVariable_ReportsKiln2017NamingTheSpec()
    {
        var diagnostics = Validate(Valid() with { Environment = [new("ASPNETCORE_URLS", "http://+:8080"), new("ASPNETCORE_URLS", "http://+:9090")] });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidEnvironment, "'ASPNETCORE_URLS' is set twice");
    }

    [Theory]
    [InlineData("1PATH")]
    [InlineData("MY-VAR")]
    [InlineData("A=B")]
    [InlineData("")]
    public void Validate_InvalidEnvironmentName_ReportsKiln2017(string name)
    {
        var diagnostics = Validate(Valid() with { Environment = [new(name, "x")] });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidEnvironment, "is invalid");
    }

    [Fact]
    public void Validate_EnvironmentValueWithNul_ReportsKiln2017()
    {
        var diagnostics = Validate(Valid() with { Environment = [new("GREETING", "a\0b")] });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidEnvironment);
    }

    [Fact]
    public void Validate_SecretWithoutTarget_ReportsKiln2017()
    {
        var diagnostics = Validate(Valid() with { Secrets = [new SecretReference("orders-db")] });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidEnvironment, "secret reference 'orders-db'");
    }

    [Fact]
    public void Validate_TwoSpecsWithTheSameNameAndVersion_ReportsKiln2005NamingBothSpecs()
    {
        var first = Valid();
        var second = Valid() with { SpecType = "Acme.Specs.OrdersApiCopy" };
        var diagnostics = new DiagnosticBag();

        SpecValidator.Validate([first, second], diagnostics);

        var diagnostic = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticCodes.DuplicateImage, diagnostic.Code);
        Assert.Contains(SpecType, diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("Acme.Specs.OrdersApiCopy", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("'orders-api:1.4.0'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SameNameWithAnotherVersion_IsAccepted()
    {
        var diagnostics = new DiagnosticBag();

        SpecValidator.Validate([Valid(), Valid() with { SpecType = "Acme.Specs.OrdersApiNext", Version = "2.0.0-rc.1" }], diagnostics);

        Assert.Empty(diagnostics.Items);
    }

    [Theory]
    [InlineData(0, "/healthz")]
    [InlineData(70000, "/healthz")]
    [InlineData(8080, "healthz")]
    [InlineData(8080, "")]
    public void Validate_BadHttpHealthCheck_ReportsKiln2015NamingTheSpec(int port, string path)
    {
        var diagnostics = Validate(Valid() with { Health = HealthCheck.Http(port, path) });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidHealthCheck, "HTTP health check");
    }

    [Fact]
    public void Validate_CommandHealthCheckWithoutProgram_ReportsKiln2015()
    {
        var diagnostics = Validate(Valid() with { Health = HealthCheck.Command(" ") });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidHealthCheck, "no program");
    }

    [Fact]
    public void Validate_HealthCheckWithZeroInterval_ReportsKiln2015()
    {
        var diagnostics = Validate(Valid() with { Health = HealthCheck.Http(8080) with { Interval = TimeSpan.Zero } });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidHealthCheck, "interval");
    }

    [Fact]
    public void Validate_HealthCheckWithNoRetries_ReportsKiln2015()
    {
        var diagnostics = Validate(Valid() with { Health = HealthCheck.Command("/app/Orders.Api", "--health") with { Retries = 0 } });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidHealthCheck, "retries");
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(-1, null)]
    [InlineData(null, 0)]
    [InlineData(65536, -5)]
    public void Validate_NonPositiveLimits_ReportsKiln2016NamingTheSpec(int? openFiles, int? processes)
    {
        var diagnostics = Validate(Valid() with { Limits = new Limits { OpenFiles = openFiles, Processes = processes } });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidLimits, "limits must be positive");
    }

    [Fact]
    public void Validate_DuplicateLabel_ReportsKiln2018()
    {
        var diagnostics = Validate(Valid() with { Labels = [new("team", "orders"), new("team", "payments")] });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidLabel, "'team' is set twice");
    }

    [Fact]
    public void Validate_EmptyLabelKey_ReportsKiln2018()
    {
        var diagnostics = Validate(Valid() with { Labels = [new(" ", "x")] });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidLabel);
    }

    [Theory]
    [InlineData("Orders", 10001, 10001)]
    [InlineData("orders", -1, 10001)]
    [InlineData("orders", 10001, -1)]
    [InlineData("", 10001, 10001)]
    public void Validate_InvalidAccount_ReportsKiln2019NamingTheSpec(string name, int uid, int gid)
    {
        var diagnostics = Validate(Valid() with { Account = new Account(name, uid, gid) });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidAccount, "account");
    }

    [Fact]
    public void Validate_RootAccount_IsNotAnEvaluationError()
    {
        // Running as root is the analyzers' business (a warning with a code fix), not a reason to refuse the build.
        Assert.Empty(Validate(Valid() with { Account = Account.Root }).Items);
    }

    [Fact]
    public void Validate_NegativeLayerOwner_ReportsKiln2019()
    {
        var diagnostics = Validate(Valid() with { Layers = [Layer.Directory("data", "/srv/data") with { Owner = new Owner(-1, 0) }] });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidAccount, "Layers[0] has a negative owner id");
    }

    [Fact]
    public void Validate_EmptyEntrypointProgram_ReportsKiln2023()
    {
        var diagnostics = Validate(Valid() with { Entrypoint = new Entrypoint("") });

        AssertSingle(diagnostics, DiagnosticCodes.MissingEntrypoint, "program is empty");
    }

    [Fact]
    public void Validate_NoEntrypoint_IsAccepted()
    {
        // The image then inherits its base's entrypoint, which is legitimate for a base that has one.
        Assert.Empty(Validate(Valid() with { Entrypoint = null }).Items);
    }

    [Fact]
    public void Validate_DebianBaseWithoutPackages_ReportsKiln2022()
    {
        var diagnostics = Validate(Valid() with { Base = BaseImage.Debian("bookworm", []) });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidBaseImage, "'bookworm' lists no packages");
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void Validate_LayoutBaseWithEmptyPath_ReportsKiln2022(string path)
    {
        var diagnostics = Validate(Valid() with { Base = BaseImage.OciLayout(path) });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidBaseImage, "path is empty");
    }

    [Fact]
    public void Validate_ArchiveBaseWithEmptyPath_ReportsKiln2022()
    {
        var diagnostics = Validate(Valid() with { Base = BaseImage.Archive("") });

        AssertSingle(diagnostics, DiagnosticCodes.InvalidBaseImage, "path is empty");
    }

    [Fact]
    public void Validate_RegistryAndDebianBases_AreNotRejectedByValidation()
    {
        // Well formed, so validation passes them on: the planner pulls the one and assembles the other from packages.
        Assert.Empty(Validate(Valid() with { Base = BaseImage.Registry("registry.example.com/base@sha256:" + new string('a', 64)) }).Items);
        Assert.Empty(Validate(Valid() with { Base = BaseImage.Debian("bookworm", ["libc6"]) }).Items);
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEveryOneTogether()
    {
        var diagnostics = Validate(Valid() with
        {
            Name = "Orders",
            Version = "1.0",
            Ports = [Port.Tcp(0)],
            Limits = new Limits { OpenFiles = 0 },
        });

        Assert.Equal(
            new[] { DiagnosticCodes.InvalidName, DiagnosticCodes.InvalidVersion, DiagnosticCodes.InvalidPort, DiagnosticCodes.InvalidLimits },
            diagnostics.Items.Select(d => d.Code));
        Assert.All(diagnostics.Items, d => Assert.StartsWith($"Spec '{SpecType}': ", d.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_PropertyLocationKnown_ReportsAtThePropertysLine()
    {
        var type = new SourceLocation("/src/Specs/OrdersApi.cs", 7);
        var ports = new SourceLocation("/src/Specs/OrdersApi.cs", 21);
        var server = Valid() with
        {
            Location = type,
            PropertyLocations = ImmutableDictionary<string, SourceLocation>.Empty.Add(nameof(ServerSpec.Ports), ports),
            Ports = [Port.Tcp(70000)],
            Version = "1",
        };

        var diagnostics = Validate(server);

        Assert.Equal(ports, diagnostics.Items.Single(d => d.Code == DiagnosticCodes.InvalidPort).Location);
        Assert.Equal(type, diagnostics.Items.Single(d => d.Code == DiagnosticCodes.InvalidVersion).Location);
    }

    [Fact]
    public void Validate_Problems_AreErrorsNotWarnings()
    {
        var diagnostics = Validate(Valid() with { Version = "1" });

        Assert.True(diagnostics.HasErrors);
        Assert.Throws<KilnException>(diagnostics.ThrowIfErrors);
    }

    [Theory]
    [InlineData("/app//bin/", "/app/bin")]
    [InlineData("/./app/./x", "/app/x")]
    [InlineData("/", "/")]
    [InlineData("//", "/")]
    public void NormalizeImagePath_RedundantSeparators_AreRemoved(string path, string expected)
    {
        Assert.Equal(expected, SpecValidator.NormalizeImagePath(path));
    }

    [Fact]
    public void Validate_NoPlatforms_ReportsKiln2140()
    {
        AssertSingle(Validate(Valid() with { Platforms = [] }), DiagnosticCodes.PlatformsEmpty, "Platforms is empty");
    }

    [Fact]
    public void Validate_PlatformListedTwice_ReportsKiln2141()
    {
        var server = Valid() with { Platforms = [Platform.LinuxAmd64, Platform.LinuxAmd64], Layers = [] };

        AssertSingle(Validate(server), DiagnosticCodes.PlatformDuplicated, "linux/amd64 is listed twice");
    }

    [Fact]
    public void Validate_UnsupportedPlatform_ReportsKiln2142()
    {
        var server = Valid() with { Platforms = [Platform.Parse("linux/riscv64")], Layers = [] };

        AssertSingle(Validate(server), DiagnosticCodes.PlatformUnsupported, "linux/riscv64");
    }

    [Fact]
    public void Validate_ExplicitRuntimeIdentifierInMultiPlatformSpec_ReportsKiln2143()
    {
        var server = Valid() with { Platforms = [Platform.LinuxAmd64, Platform.LinuxArm64] };

        AssertSingle(Validate(server), DiagnosticCodes.PublishRuntimeIdentifierConflict, "Drop runtimeIdentifier");
    }

    [Fact]
    public void Validate_RuntimeIdentifierOfAnotherPlatform_ReportsKiln2143()
    {
        var server = Valid() with { Platforms = [Platform.LinuxArm64] };

        AssertSingle(Validate(server), DiagnosticCodes.PublishRuntimeIdentifierConflict, "'linux-x64'");
    }

    [Theory]
    [InlineData("linux-x64", "linux/amd64", true)]
    [InlineData("linux-musl-x64", "linux/amd64", true)]
    [InlineData("linux-arm64", "linux/arm64", true)]
    [InlineData("linux-musl-arm64", "linux/arm64", true)]
    [InlineData("linux-x64", "linux/arm64", false)]
    [InlineData("linux-arm64", "linux/amd64", false)]
    [InlineData("win-x64", "linux/amd64", false)]
    public void RuntimeFits_RuntimeAndPlatform_MatchByOsAndArchitecture(string rid, string platform, bool fits)
    {
        Assert.Equal(fits, SpecValidator.RuntimeFits(rid, Platform.Parse(platform)));
    }

    [Fact]
    public void Validate_TwoPlatformsWithoutRuntimeIdentifier_IsAccepted()
    {
        var server = Valid() with
        {
            Platforms = [Platform.LinuxAmd64, Platform.LinuxArm64],
            Layers = [Layer.PublishOutput("../Orders.Api/Orders.Api.csproj", to: "/app", selfContained: true)],
        };

        Assert.Empty(Validate(server).Items);
    }

    /// <summary>A server with every member set to a valid value; each test breaks one.</summary>
    private static ResolvedServer Valid() => new()
    {
        SpecType = SpecType,
        Name = "orders-api",
        Version = "1.4.0",
        Base = BaseImage.OciLayout("bases/runtime", "runtime-deps:10.0"),
        Layers =
        [
            Layer.PublishOutput("../Orders.Api/Orders.Api.csproj", to: "/app", runtimeIdentifier: "linux-x64", selfContained: true),
            Layer.File("config/appsettings.Production.json", to: "/app/appsettings.Production.json"),
            Layer.Directory("wwwroot", to: "/app/wwwroot", include: ["**/*.html", "**/*.css"], exclude: ["**/*.map"]) with { Owner = new Owner(10001, 10001) },
        ],
        Account = Account.NonRoot("orders", uid: 10001),
        WorkingDirectory = "/app",
        Entrypoint = new Entrypoint("/app/Orders.Api", "--urls", "http://+:8080"),
        Arguments = ["--verbose"],
        Environment = [new("ASPNETCORE_ENVIRONMENT", "Production"), new("DOTNET_gcServer", "0")],
        Ports = [Port.Tcp(8080, "http"), Port.Udp(8125, "statsd")],
        Health = HealthCheck.Http(8080, "/healthz") with { Interval = TimeSpan.FromSeconds(5), Retries = 2 },
        Limits = new Limits { OpenFiles = 65_536, Processes = 512 },
        Labels = [new("org.opencontainers.image.vendor", "Acme"), new("team", "orders")],
        Volumes = ["/tmp", "/var/cache/orders"],
        Secrets = [new SecretReference("orders-db", EnvironmentVariable: "ConnectionStrings__Orders"), new SecretReference("tls", Path: "/run/secrets/tls.pem")],
    };

    private static DiagnosticBag Validate(ResolvedServer server)
    {
        var diagnostics = new DiagnosticBag();
        SpecValidator.Validate([server], diagnostics);
        return diagnostics;
    }

    /// <summary>Exactly one problem, with <paramref name="code"/>, naming the spec type (and containing <paramref name="text"/>).</summary>
    private static KilnDiagnostic AssertSingle(DiagnosticBag diagnostics, string code, string? text = null)
    {
        var diagnostic = Assert.Single(diagnostics.Items);
        Assert.Equal(code, diagnostic.Code);
        Assert.False(diagnostic.IsWarning);
        Assert.Contains($"Spec '{SpecType}'", diagnostic.Message, StringComparison.Ordinal);
        if (text is not null)
        {
            Assert.Contains(text, diagnostic.Message, StringComparison.Ordinal);
        }

        return diagnostic;
    }
}
