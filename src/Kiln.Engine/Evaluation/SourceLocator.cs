using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Evaluation;

/// <summary>
/// Maps spec types and their properties to source file and line through the assembly's portable PDB (beside it or
/// embedded), so that evaluation errors point at the line that declares the bad value.
/// </summary>
internal sealed class SourceLocator : IDisposable
{
    private readonly MetadataReaderProvider? _pdb;
    private readonly MetadataReader? _reader;
    private readonly Module? _module;
    private readonly (string From, string To)[] _pathMap;

    private SourceLocator(MetadataReaderProvider? pdb, Module? module, string? pathMap)
    {
        _pdb = pdb;
        _reader = pdb?.GetMetadataReader();
        _module = module;
        _pathMap = ParsePathMap(pathMap);
    }

    public static SourceLocator Create(string assemblyPath, Assembly assembly, string? pathMap)
    {
        try
        {
            var pdbPath = Path.ChangeExtension(assemblyPath, ".pdb");
            if (File.Exists(pdbPath))
            {
                var provider = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(File.ReadAllBytes(pdbPath)));
                return new SourceLocator(provider, assembly.ManifestModule, pathMap);
            }

            using var pe = new PEReader(new MemoryStream(File.ReadAllBytes(assemblyPath)));
            var embedded = pe.ReadDebugDirectory().FirstOrDefault(e => e.Type == DebugDirectoryEntryType.EmbeddedPortablePdb);
            if (embedded.DataSize > 0)
            {
                return new SourceLocator(pe.ReadEmbeddedPortablePdbDebugDirectoryData(embedded), assembly.ManifestModule, pathMap);
            }
        }
        catch (BadImageFormatException)
        {
            // A Windows PDB or a damaged one: errors then name the type without a line.
        }

        return new SourceLocator(null, null, pathMap);
    }

    /// <summary>The first line of the property's getter, else of the type, else nothing.</summary>
    public SourceLocation? Locate(Type type, string? propertyName = null)
    {
        if (_reader is null || _module is null)
        {
            return null;
        }

        if (propertyName is not null)
        {
            var getter = type.GetProperty(propertyName, BindingFlags.Public | BindingFlags.Instance)?.GetMethod;
            if (getter is not null && getter.Module == _module && Locate(getter) is { } location)
            {
                return location;
            }
        }

        SourceLocation? best = null;
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (method.Module == _module && Locate(method) is { } location && (best is null || location.Line < best.Line))
            {
                best = location;
            }
        }

        return best;
    }

    private SourceLocation? Locate(MethodBase method)
    {
        var handle = MetadataTokens.MethodDefinitionHandle(method.MetadataToken);
        MethodDebugInformation info;
        try
        {
            info = _reader!.GetMethodDebugInformation(handle);
        }
        catch (BadImageFormatException)
        {
            return null;
        }

        foreach (var point in info.GetSequencePoints())
        {
            if (!point.IsHidden)
            {
                var document = _reader.GetDocument(point.Document);
                return new SourceLocation(Unmap(_reader.GetString(document.Name)), point.StartLine);
            }
        }

        return null;
    }

    private string Unmap(string path)
    {
        foreach (var (from, to) in _pathMap)
        {
            if (to.Length > 0 && path.StartsWith(to, StringComparison.Ordinal))
            {
                return Path.GetFullPath(Path.Combine(from, path[to.Length..].Replace('\\', '/')));
            }
        }

        return path;
    }

    private static (string From, string To)[] ParsePathMap(string? pathMap) =>
        string.IsNullOrWhiteSpace(pathMap)
            ? []
            : [.. pathMap.Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Select(pair => pair.Split('=', 2))
                .Where(parts => parts.Length == 2)
                .Select(parts => (parts[0].Trim(), parts[1].Trim()))];

    public void Dispose() => _pdb?.Dispose();
}
