using System.Reflection;
using System.Runtime.Loader;

namespace Kiln.Engine.Evaluation;

/// <summary>
/// A collectible load context for the user's spec assembly. Kiln.Spec itself comes from the engine's context so that
/// the spec types are the engine's; everything else the assembly needs is resolved from its own output directory.
/// Assemblies are loaded from memory so that no file of the user's stays open or locked.
/// </summary>
internal sealed class SpecLoadContext : AssemblyLoadContext
{
    private static readonly string SpecAssemblyName = typeof(Kiln.Spec.ServerSpec).Assembly.GetName().Name!;
    private readonly AssemblyDependencyResolver? _resolver;
    private readonly string _directory;

    public SpecLoadContext(string assemblyPath)
        : base($"kiln-spec:{Path.GetFileName(assemblyPath)}", isCollectible: true)
    {
        _directory = Path.GetDirectoryName(assemblyPath)!;
        var depsJson = Path.ChangeExtension(assemblyPath, ".deps.json");
        _resolver = File.Exists(depsJson) ? new AssemblyDependencyResolver(assemblyPath) : null;
    }

    public Assembly LoadFromBytes(string path)
    {
        using var image = new MemoryStream(File.ReadAllBytes(path));
        var pdbPath = Path.ChangeExtension(path, ".pdb");
        if (File.Exists(pdbPath))
        {
            using var pdb = new MemoryStream(File.ReadAllBytes(pdbPath));
            return LoadFromStream(image, pdb);
        }

        return LoadFromStream(image);
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (string.Equals(assemblyName.Name, SpecAssemblyName, StringComparison.Ordinal))
        {
            return null; // share the engine's Kiln.Spec, so that spec types are the same types
        }

        var path = _resolver?.ResolveAssemblyToPath(assemblyName);
        if (path is null)
        {
            var candidate = Path.Combine(_directory, assemblyName.Name + ".dll");
            path = File.Exists(candidate) ? candidate : null;
        }

        // Framework assemblies resolve from the default context.
        return path is null ? null : LoadFromBytes(path);
    }
}
