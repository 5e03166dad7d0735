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
    public const string BaseKindUnsupported = "KILN2014";
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

    public const string EngineFailed = "KILN3001";
    public const string AssemblyNotFound = "KILN3002";
    public const string ArtifactWriteFailed = "KILN3003";
    public const string InternalError = "KILN3004";

    public const string InvalidSourceDateEpoch = "KILN4001";
    public const string InvalidRequest = "KILN4002";
    public const string EngineNotFound = "KILN4003";

    public const string LockUnreadable = "KILN5001";
}
