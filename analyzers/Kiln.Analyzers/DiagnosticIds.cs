namespace Kiln.Analyzers;

/// <summary>
/// Every analyzer diagnostic id, in one place. Analyzers own KILN0001-KILN0999 (docs/diagnostics.md); ids are never
/// reused: a retired rule keeps its number in AnalyzerReleases.Shipped.md.
/// </summary>
public static class DiagnosticIds
{
    public const string SettableProperty = "KILN0001";
    public const string MutableField = "KILN0002";
    public const string MutableCollection = "KILN0003";
    public const string UnversionedBaseImage = "KILN0004";
    public const string MutableTag = "KILN0005";
    public const string BaseImageNotPinned = "KILN0006";
    public const string RegistryNotAllowed = "KILN0007";
    public const string UnpinnedPackage = "KILN0008";
    public const string RootAccount = "KILN0009";
    public const string PrivilegeEscalation = "KILN0010";
    public const string HostPathVolume = "KILN0011";
    public const string DeployedServerWithoutHealthCheck = "KILN0012";
    public const string ComponentWithoutResources = "KILN0013";
    public const string SecretLiteral = "KILN0014";
    public const string NonDeterministicCall = "KILN0015";
    public const string IoInSpec = "KILN0016";
    public const string ProvisioningAtStart = "KILN0017";
    public const string ShellFormEntrypoint = "KILN0018";
    public const string RelativePath = "KILN0019";
    public const string PortOutOfRange = "KILN0020";
    public const string DuplicatePort = "KILN0021";
    public const string DuplicateServer = "KILN0022";
    public const string VersionNotSemVer = "KILN0023";
    public const string RemoteShellAccess = "KILN0024";
    public const string InvalidImageName = "KILN0025";
}
