namespace Kiln.Engine.Diagnostics;

/// <summary>
/// Every code the engine reports. Each one is documented in docs/diagnostics.md; a test fails when a code is duplicated
/// or undocumented. Ranges: 1xxx registry, 2xxx spec and inputs, 3xxx tools/processes/files, 4xxx MSBuild, 5xxx lock.
/// </summary>
public static class DiagnosticCodes
{
    public const string SpecThrew = "KILN2001";
    public const string SpecNotConstructible = "KILN2002";
    public const string InvalidName = "KILN2003";
    public const string InvalidVersion = "KILN2004";
    public const string DuplicateImage = "KILN2005";
    public const string InvalidPort = "KILN2006";
    public const string PathNotAbsolute = "KILN2007";
    public const string PathEscapesRoot = "KILN2008";
    public const string InputFileMissing = "KILN2009";
    public const string InputDirectoryMissing = "KILN2010";
    public const string LayerConflict = "KILN2011";
    public const string BaseNotFound = "KILN2012";
    public const string BaseReferenceNotFound = "KILN2013";
    // Number 2014 is retired (registry bases were once refused with it): never reuse it.
    public const string InvalidHealthCheck = "KILN2015";
    public const string InvalidLimits = "KILN2016";
    public const string InvalidEnvironment = "KILN2017";
    public const string InvalidLabel = "KILN2018";
    public const string InvalidAccount = "KILN2019";
    public const string NoSpecs = "KILN2020";
    public const string PublishOutputMissing = "KILN2021";
    public const string InvalidBaseImage = "KILN2022";
    public const string MissingEntrypoint = "KILN2023";
    public const string InvalidVolume = "KILN2024";
    public const string InvalidFileMode = "KILN2025";

    // Registries: pulling bases, pushing images (KILN1001–1039); registry references in specs (KILN2030–2039).
    public const string RegistryUnreachable = "KILN1001";
    public const string RegistryCredentialsMissing = "KILN1002";
    public const string RegistryCredentialsRejected = "KILN1003";
    public const string RegistryNotFound = "KILN1004";
    public const string RegistryContentMismatch = "KILN1005";
    public const string RegistryProtocolError = "KILN1006";
    public const string RegistryCredentialSourceFailed = "KILN1008";
    public const string PushNothingBuilt = "KILN1010";
    public const string PushTargetInvalid = "KILN1011";
    public const string RegistryCaFileUnreadable = "KILN1012";
    public const string RegistryCacheFailed = "KILN1013";
    public const string ExportFailed = "KILN1014";
    public const string RegistryThrottled = "KILN1015";
    public const string LocalBlobCorrupt = "KILN1016";
    public const string PullNotServed = "KILN1017";

    // Versions immutable at the registry (KILN1060–1064).
    public const string PushTagTaken = "KILN1060";
    public const string PushTagOverwritten = "KILN1061";
    public const string PushExtraTagInvalid = "KILN1062";
    public const string InvalidImageReference = "KILN2030";
    public const string ImageReferenceNotPinned = "KILN2031";
    public const string InvalidPlatform = "KILN2032";

    // Debian package bases (KILN2040–2069).
    public const string PackageUnknown = "KILN2040";
    public const string PackageUnsatisfiable = "KILN2041";
    public const string PackageLockedVersionGone = "KILN2042";
    public const string ReleaseSignatureInvalid = "KILN2043";
    public const string PackageIndexHashMismatch = "KILN2044";
    public const string PackageHashMismatch = "KILN2045";
    public const string InvalidPackageBase = "KILN2046";
    public const string SuiteNotFound = "KILN2047";
    public const string PackageArchiveInvalid = "KILN2048";
    public const string DebianMirrorUnknown = "KILN2049";
    public const string DebianKeyringUnreadable = "KILN2050";
    public const string ReleaseExpired = "KILN2051";
    public const string ReleaseDateUnreadable = "KILN2052";
    public const string PackageConflict = "KILN2053";
    public const string BumpVersionNotLiteral = "KILN2054";
    public const string BumpSpecNotFound = "KILN2055";

    // Debian package bases per architecture (KILN2150–2159).
    public const string PackageArchitectureUnsupported = "KILN2150";
    public const string PackageArchitectureNotPublished = "KILN2151";
    public const string PackageMissingForArchitecture = "KILN2152";
    public const string PackageSharedPinMismatch = "KILN2153";
    public const string PackageBaseArchitectureMismatch = "KILN2154";

    public const string EngineFailed = "KILN3001";
    public const string AssemblyNotFound = "KILN3002";
    public const string ArtifactWriteFailed = "KILN3003";
    public const string InternalError = "KILN3004";

    // Package bases: the download cache (KILN3010–3019).
    public const string PackageCacheFailed = "KILN3010";

    // Package bases: the Debian mirror (KILN1040–1049).
    public const string PackageDownloadFailed = "KILN1040";
    public const string PackageDownloadIncomplete = "KILN1041";

    public const string InvalidSourceDateEpoch = "KILN4001";
    public const string InvalidRequest = "KILN4002";
    public const string EngineNotFound = "KILN4003";

    public const string LockUnreadable = "KILN5001";

    // Versions and the lock, diff/verify/query inputs.
    public const string LockedVersionChanged = "KILN5002";
    public const string LockedVersionRecorded = "KILN5003";
    public const string InvalidLockMode = "KILN5004";
    public const string NotAKilnManifest = "KILN2070";
    public const string InventoryDigestMismatch = "KILN2071";
    public const string RootNotFound = "KILN2072";
    public const string ArtifactNotFound = "KILN2073";
    public const string InvalidSetting = "KILN2074";

    // Deployments: validation, rendering and plan inputs (KILN2090–2119).
    public const string InvalidDeploymentName = "KILN2090";
    public const string ComponentNotServerSpec = "KILN2091";
    public const string DuplicateComponent = "KILN2092";
    public const string ComponentWithoutHealthCheck = "KILN2093";
    public const string ReplicasBelowDisruptionBudget = "KILN2094";
    public const string ServicePortConflict = "KILN2095";
    public const string UnknownSecretReference = "KILN2096";
    public const string InvalidReplicas = "KILN2097";
    public const string InvalidResources = "KILN2098";
    public const string InvalidRolloutPolicy = "KILN2099";
    public const string InvalidExposure = "KILN2100";
    public const string EmptyDeployment = "KILN2101";
    public const string InvalidRegistry = "KILN2102";
    public const string ReleaseUnreadable = "KILN2103";

    // kiln run: runtime bundles and runc (KILN3020–3029).
    public const string RuncNotFound = "KILN3020";
    public const string ImageNotInLayout = "KILN3021";
    public const string BundleFailed = "KILN3022";
    public const string InstanceExited = "KILN3023";
    public const string HealthCheckTimedOut = "KILN3024";

    // Integrity: hostile base layers (KILN2130–2149), reused blobs and cache entries, kiln fsck (KILN3040–3049).
    public const string BaseEntryEscapesRoot = "KILN2130";
    public const string BaseHardLinkInvalid = "KILN2131";
    public const string BaseWriteThroughSymlink = "KILN2132";
    public const string BaseSpecialFile = "KILN2133";
    public const string LayerWriteThroughSymlink = "KILN2134";
    public const string CorruptBlobReplaced = "KILN3040";
    public const string CacheEntryRebuilt = "KILN3041";
    public const string LayoutCheckFailed = "KILN3042";
    public const string LayoutUnreadable = "KILN3043";

    // Input integrity and bounded evaluation (KILN2110–2129, KILN3030–3039, KILN4010–4019).
    public const string InputOutsideRoots = "KILN2110";
    public const string InputSymlinkEscapes = "KILN2111";
    public const string InputNotRegularFile = "KILN2112";
    public const string InputSymlinkLoop = "KILN2113";
    public const string PublishProjectMissing = "KILN2114";
    public const string EvaluationTimedOut = "KILN2115";
    public const string IntermediateDirectoryNotWritable = "KILN3030";
    public const string InvalidInputRoot = "KILN4010";
    public const string InvalidEvaluationTimeout = "KILN4011";

    // Concurrent builds of one output directory (KILN3060–3069, KILN4020–4029).
    public const string BuildLockTimedOut = "KILN3060";
    public const string InvalidBuildLockTimeout = "KILN4020";

    // Kiln's own artifacts, read back through one model each (KILN5020–5029).
    public const string ReleaseFileInvalid = "KILN5020";
    public const string PublishListInvalid = "KILN5021";

    // Signed provenance and verify-image (KILN2170–2179, KILN4030–4039).
    public const string AttestationMissing = "KILN2170";
    public const string AttestationSignatureInvalid = "KILN2171";
    public const string AttestationSubjectMismatch = "KILN2172";
    public const string AttestationBuilderMismatch = "KILN2173";
    public const string AttestationDependencyMismatch = "KILN2174";
    public const string AttestationMalformed = "KILN2175";
    public const string ImageTampered = "KILN2176";
    public const string BaseNotVerified = "KILN2177";
    public const string BaseNotVerifiable = "KILN2178";
    public const string SigningKeyUnusable = "KILN4030";
    public const string VerificationKeyUnusable = "KILN4031";

    // The build settings stamp (src/Shared/KilnBuildSettings.cs, KILN4040–4044): logged by the WriteKilnSettings task,
    // which cannot reference the engine; the constants keep the codes reserved and documented.
    public const string SettingsStampNotWritable = "KILN4040";
    public const string SettingInvalid = "KILN4041";

    // No longer raised (documented, and kept so that the code is never given another meaning): Kiln.Build.targets
    // failed with it when an input of the image build changed between two up-to-date checks it no longer makes.
    public const string ImageBuildInputChangedDuringBuild = "KILN4045";

    // The Cake recipe (src/Kiln.Build.Tasks/tools/kiln.cake, KILN4050–4054): a script that cannot reference the engine
    // writes these as literals; they are here so that no other meaning takes them.
    public const string CakeProjectMissing = "KILN4050";
    public const string CakeRegistryMissing = "KILN4051";
    public const string CakeOutdatedModeInvalid = "KILN4052";
    public const string CakeOutdatedCheckFailed = "KILN4053";
    public const string CakeReleaseMissing = "KILN4054";

    // The engine server (src/Kiln.Build.Tasks/Tasks: EngineServerConnection, KilnToolTask): the tasks, which cannot
    // reference the engine, write these as literals.
    public const string EngineServerEndedBuild = "KILN4060";
    public const string EngineServerIdleTimeoutInvalid = "KILN4061";
    public const string EngineServerForeign = "KILN4062";

    // Coming from PublishContainer: the SDK's Container* settings and kiln init --from-publish-container (KILN2210–2219).
    // KILN2210 and KILN2211 are logged by Kiln.Build.targets itself; the constants keep the codes reserved and documented.
    public const string ContainerSettingIgnored = "KILN2210";
    public const string PublishedProjectContainerSettingIgnored = "KILN2211";
    public const string InitProjectNotFound = "KILN2212";
    public const string InitProjectEvaluationFailed = "KILN2213";
    public const string InitWouldOverwrite = "KILN2214";
    public const string InitOutputHoldsProject = "KILN2215";
    public const string InitBaseNotPinned = "KILN2216";

    // The kiln CLI's contract with scripts (KILN1050–1059, KILN5030–5039).
    public const string PullNotCachedOffline = "KILN1050";
    public const string PushOutputMissing = "KILN1051";
    public const string CommandLineInvalid = "KILN5030";
    public const string ProjectNotFound = "KILN5031";
    public const string RlimitAboveHardLimit = "KILN5032";

    // Multi-platform images in the CLI: choosing and running one platform of an index (KILN5040–5049).
    public const string PlatformNotRunnable = "KILN5040";
    public const string EmulatorNotAvailable = "KILN5041";
    public const string PlatformNotInImage = "KILN5042";
    public const string PlatformInvalid = "KILN5043";

    // Layer compression (KILN2180–2184, KILN3070–3074).
    public const string InvalidLayerCompression = "KILN2180";

    // Images of several platforms: picking one out of an index (KILN2160–2169, KILN1070–1074).
    public const string ImagePlatformMissing = "KILN2160";
    public const string ImagePlatformMismatch = "KILN2161";

    // Platforms: one spec, an image per platform under an image index (KILN2140–2149, KILN5022–5025).
    public const string PlatformsEmpty = "KILN2140";
    public const string PlatformDuplicated = "KILN2141";
    public const string PlatformUnsupported = "KILN2142";
    public const string PublishRuntimeIdentifierConflict = "KILN2143";
    public const string PlatformNotDeclared = "KILN2144";
    public const string InvalidPlatformsProperty = "KILN2145";
    public const string VerifyPlatformNotFound = "KILN2146";
    public const string KilnManifestInvalid = "KILN5022";
    public const string LockedPlatformChanged = "KILN5023";
}
