using Kiln.Analyzers.Rules;

namespace Kiln.Analyzers.Tests.Rules;

public sealed class UnversionedBaseImageAnalyzerTests
{
    [Fact]
    public Task RegistryReferenceWithoutTagOrDigest_Reports() =>
        Verify<UnversionedBaseImageAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Registry({|KILN0004:"ghcr.io/acme/runtime"|});
            }
            """);

    [Fact]
    public Task TaggedOrLocalOrNonConstantReference_DoesNotReport() =>
        Verify<UnversionedBaseImageAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                // Not readonly: any code may change it, so its value is unknown at compile time.
                private static string reference = "nginx";
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Registry("ghcr.io/acme/runtime:1.2");
                public BaseImage Local => BaseImage.OciLayout("bases/runtime");
                public BaseImage Computed => BaseImage.Registry(reference);
            }
            """);
}

public sealed class MutableTagAnalyzerTests
{
    [Fact]
    public Task LatestTagOrMovingSuite_Reports() =>
        Verify<MutableTagAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Registry({|KILN0005:"nginx:latest"|});
                public BaseImage Other => BaseImage.Debian({|KILN0005:"stable"|}, ["libc6"]);
            }
            """);

    [Fact]
    public Task PinnedLatestOrCodename_DoesNotReport() =>
        Verify<MutableTagAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Registry("nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
                public BaseImage Other => BaseImage.Debian("bookworm", ["libc6"]);
                public BaseImage Versioned => BaseImage.Registry("nginx:1.27");
            }
            """);

    [Fact]
    public Task ConfiguredMutableTags_ReplaceTheDefaults() =>
        Verify<MutableTagAnalyzer>.AnalyzerAsync(
            """
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Registry({|KILN0005:"acme/runtime:weekly"|});
                public BaseImage Other => BaseImage.Registry("nginx:latest");
            }
            """,
            "kiln.mutable_tags = weekly, nightly");
}

public sealed class BaseImageNotPinnedAnalyzerTests
{
    [Fact]
    public Task TagWithoutDigestOrMalformedDigest_Reports() =>
        Verify<BaseImageNotPinnedAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Registry({|KILN0006:"registry.local:5000/acme/runtime:1.2"|});
                public BaseImage Short => BaseImage.Registry({|KILN0006:"nginx@sha256:1234"|});
            }
            """);

    [Fact]
    public Task DigestPinnedOrOtherRulesCases_DoNotReport() =>
        Verify<BaseImageNotPinnedAnalyzer>.AnalyzerAsync("""
            public sealed class Api : ServerSpec
            {
                public override string Name => "api";
                public override string Version => "1.0.0";
                public override BaseImage Base => BaseImage.Registry("registry.local:5000/acme/runtime:1.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
                public BaseImage Latest => BaseImage.Registry("nginx:latest");
                public BaseImage Bare => BaseImage.Registry("nginx");
            }
            """);
}

public sealed class RegistryNotAllowedAnalyzerTests
{
    private const string Source = """
        public sealed class Api : ServerSpec
        {
            public override string Name => "api";
            public override string Version => "1.0.0";
            public override BaseImage Base => BaseImage.Registry({|#0:"quay.io/evil/runtime:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"|});
            public BaseImage Mirror => BaseImage.Registry("ghcr.io/acme/runtime:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
            public BaseImage Hub => BaseImage.Registry({|#1:"nginx:1.27"|});
        }
        """;

    [Fact]
    public Task RegistryOutsideAllowedList_Reports() =>
        Verify<RegistryNotAllowedAnalyzer>.AnalyzerAsync(
            Source,
            "kiln.allowed_registries = ghcr.io/acme, registry.local:5000",
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(RegistryNotAllowedAnalyzer.Rule).WithLocation(0).WithArguments("quay.io/evil/runtime:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "quay.io", "ghcr.io/acme, registry.local:5000"),
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(RegistryNotAllowedAnalyzer.Rule).WithLocation(1).WithArguments("nginx:1.27", "docker.io", "ghcr.io/acme, registry.local:5000"));

    [Fact]
    public Task NoOptionOrAllListed_DoesNotReport() =>
        Task.WhenAll(
            Verify<RegistryNotAllowedAnalyzer>.AnalyzerAsync(Source),
            Verify<RegistryNotAllowedAnalyzer>.AnalyzerAsync(Source, "kiln.allowed_registries = quay.io, ghcr.io, docker.io"));
}

public sealed class UnpinnedPackageAnalyzerTests
{
    private const string Source = """
        public sealed class Api : ServerSpec
        {
            public override string Name => "api";
            public override string Version => "1.0.0";
            public override BaseImage Base => BaseImage.Debian("bookworm", [{|#0:"libc6"|}, "ca-certificates=20230311"]);
        }
        """;

    [Fact]
    public Task PackageWithoutVersion_WhenPinsRequired_Reports() =>
        Task.WhenAll(
            Verify<UnpinnedPackageAnalyzer>.AnalyzerAsync(Source, "kiln.require_package_pins = true", new Microsoft.CodeAnalysis.Testing.DiagnosticResult(UnpinnedPackageAnalyzer.Rule).WithLocation(0).WithArguments("libc6")),
            Verify<UnpinnedPackageAnalyzer>.AnalyzerAsync(Source, "is_global = true\nbuild_property.KilnLockMode = Off", new Microsoft.CodeAnalysis.Testing.DiagnosticResult(UnpinnedPackageAnalyzer.Rule).WithLocation(0).WithArguments("libc6")));

    [Fact]
    public Task PackageWithoutVersion_WhenLockPinsIt_DoesNotReport() =>
        Task.WhenAll(
            Verify<UnpinnedPackageAnalyzer>.AnalyzerAsync(Source),
            Verify<UnpinnedPackageAnalyzer>.AnalyzerAsync(Source, "is_global = true\nbuild_property.KilnLockMode = Enforce"));

    [Fact]
    public Task PackageWithoutVersion_DebugBuildsDerivedLockModeOff_DoesNotReport() =>
        Verify<UnpinnedPackageAnalyzer>.AnalyzerAsync(Source, "is_global = true\nbuild_property.KilnLockMode = Off\nbuild_property._KilnLockModeDerived = true");
}
