using Kiln.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace Kiln.Analyzers.Tests;

/// <summary>
/// Runs an analyzer (and a code fix) over C# source written against Kiln.Spec, with the net10.0 reference
/// assemblies from the local package cache (never downloaded at test time).
/// </summary>
internal static class Verify<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public static Task AnalyzerAsync(string source, params DiagnosticResult[] expected) =>
        AnalyzerAsync(source, editorConfig: null, expected);

    /// <param name="editorConfig">Lines placed under <c>[*.cs]</c> in the project's .editorconfig, or a whole global config when it starts with <c>is_global</c>.</param>
    public static Task AnalyzerAsync(string source, string? editorConfig, params DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier> { TestCode = source };
        TestSetup.Configure(test, editorConfig);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>Runs the analyzer over several files of one compilation (values declared in one file, used in another).</summary>
    public static Task AnalyzerAsync(string[] sources, string? editorConfig, params DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier> { TestCode = sources[0] };
        for (var i = 1; i < sources.Length; i++)
        {
            test.TestState.Sources.Add(($"/0/Test{i}.cs", sources[i]));
        }

        TestSetup.Configure(test, editorConfig);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>Checks the diagnostics in <paramref name="source"/>'s markup and that <typeparamref name="TFix"/> turns it into <paramref name="fixedSource"/>.</summary>
    public static Task CodeFixAsync<TFix>(string source, string fixedSource, string? equivalenceKey = null, bool withGlobalUsings = true)
        where TFix : CodeFixProvider, new()
    {
        var test = new CSharpCodeFixTest<TAnalyzer, TFix, DefaultVerifier>
        {
            TestCode = source,
            FixedCode = fixedSource,
            CodeActionEquivalenceKey = equivalenceKey,
        };
        TestSetup.Configure(test, editorConfig: null, withGlobalUsings);
        if (withGlobalUsings)
        {
            test.FixedState.Sources.Add(TestSetup.GlobalUsings);
        }

        return test.RunAsync();
    }
}

internal static class TestSetup
{
    /// <summary>
    /// The net10.0 reference assemblies, read from the Microsoft.NETCore.App.Ref package that the test project's
    /// PackageDownload puts in the NuGet cache (the testing library's PackageIdentity overload needs NuGet's API,
    /// which its package keeps private).
    /// </summary>
    internal static readonly Lazy<MetadataReference[]> NetCoreAppReferences = new(() =>
    {
        var directory = typeof(TestSetup).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>()
            .Single(a => a.Key == "NetCoreAppRefDirectory").Value!;
        return [.. Directory.GetFiles(directory, "*.dll").Order(StringComparer.Ordinal).Select(f => MetadataReference.CreateFromFile(f))];
    });

    internal static readonly MetadataReference KilnSpec = MetadataReference.CreateFromFile(typeof(ServerSpec).Assembly.Location);

    /// <summary>What every test file can use without saying so, as in a spec project with implicit usings.</summary>
    public static readonly (string, string) GlobalUsings = ("/0/GlobalUsings.cs", """
        global using System;
        global using System.Collections.Generic;
        global using System.Collections.Immutable;
        global using System.IO;
        global using System.Linq;
        global using Kiln.Spec;
        """);

    public static void Configure<TVerifier>(AnalyzerTest<TVerifier> test, string? editorConfig, bool withGlobalUsings = true)
        where TVerifier : IVerifier, new()
    {
        test.ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        test.TestState.AdditionalReferences.AddRange(NetCoreAppReferences.Value);
        test.TestState.AdditionalReferences.Add(KilnSpec);
        if (withGlobalUsings)
        {
            test.TestState.Sources.Add(GlobalUsings);
        }

        if (editorConfig is not null && editorConfig.StartsWith("is_global", StringComparison.Ordinal))
        {
            // A global config, as MSBuild writes for CompilerVisibleProperty (build_property.*).
            test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", editorConfig + "\n"));
        }
        else if (editorConfig is not null)
        {
            test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n\n[*.cs]\n" + editorConfig + "\n"));
        }
    }
}
