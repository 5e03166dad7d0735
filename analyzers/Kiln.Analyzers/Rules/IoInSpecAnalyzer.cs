using System.Collections.Immutable;
using Kiln.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KILN0016: spec code reads or writes files, the network or processes.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class IoInSpecAnalyzer : SpecAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Descriptors.Create(
        DiagnosticIds.IoInSpec,
        "Spec code does I/O",
        "'{0}' does I/O while the spec is evaluated; declare files as layers (Layer.File, Layer.Directory) so the build hashes them as inputs",
        Descriptors.Determinism,
        DiagnosticSeverity.Warning,
        "Kiln knows an image's inputs from its spec: layers name their files, so a changed file means a changed layer digest. A file read, download or process started by spec code is an input nobody declared.");

    internal static readonly ImmutableArray<string> WholeTypes =
    [
        "System.IO.File",
        "System.IO.Directory",
        "System.IO.FileInfo",
        "System.IO.DirectoryInfo",
        "System.IO.DriveInfo",
        "System.IO.FileStream",
        "System.IO.FileSystemWatcher",
        "System.IO.MemoryMappedFiles.MemoryMappedFile",
        "System.Net.Http.HttpMessageInvoker",
        "System.Net.WebClient",
        "System.Net.WebRequest",
        "System.Net.Dns",
        "System.Net.Sockets.Socket",
        "System.Net.Sockets.TcpClient",
        "System.Net.Sockets.TcpListener",
        "System.Net.Sockets.UdpClient",
        "System.Net.NetworkInformation.Ping",
        "System.Diagnostics.Process",
    ];

    internal static readonly ImmutableArray<(string Type, string Member)> Members =
    [
        ("System.IO.StreamReader", ".ctor"),
        ("System.IO.StreamWriter", ".ctor"),
        ("System.IO.Path", "GetTempPath"),
        ("System.IO.Path", "GetTempFileName"),
        ("System.IO.Path", "GetFullPath"),
    ];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rule];

    private protected override void Register(CompilationStartAnalysisContext context, SpecTypes types) =>
        ForbiddenApis.Register(context, types, Rule, WholeTypes, Members);
}
