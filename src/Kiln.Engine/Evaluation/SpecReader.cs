using System.Collections.Immutable;
using System.Reflection;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Evaluation;

/// <summary>
/// What evaluating every kind of spec (servers, deployments) shares: finding its classes, creating each one, and
/// reading each property once, so that spec code that throws becomes a coded error at the constructor's or the
/// getter's line, never a crash of Kiln.
/// </summary>
/// <typeparam name="TSpec">The spec base class (<c>ServerSpec</c>, <c>DeploymentSpec</c>).</typeparam>
internal sealed class SpecReader<TSpec>
    where TSpec : class
{
    private readonly TSpec _spec;
    private readonly Type _type;
    private readonly string _kind;
    private readonly SourceLocator _locator;
    private readonly DiagnosticBag _diagnostics;
    private readonly EvaluationProgress _progress;
    private readonly ImmutableDictionary<string, SourceLocation>.Builder _locations = ImmutableDictionary.CreateBuilder<string, SourceLocation>();

    private SpecReader(TSpec spec, Type type, string kind, SourceLocation? typeLocation, SourceLocator locator, DiagnosticBag diagnostics, EvaluationProgress progress)
    {
        (_spec, _type, _kind, TypeLocation, _locator, _diagnostics, _progress) = (spec, type, kind, typeLocation, locator, diagnostics, progress);
    }

    /// <summary>Where the spec class is declared.</summary>
    public SourceLocation? TypeLocation { get; }

    /// <summary>Whether reading a property failed (the error is reported).</summary>
    public bool Failed { get; private set; }

    /// <summary>Where each property read so far is declared.</summary>
    public ImmutableDictionary<string, SourceLocation> Locations => _locations.ToImmutable();

    /// <summary>The concrete <typeparamref name="TSpec"/> classes among <paramref name="types"/>, in ordinal order of their names.</summary>
    public static IEnumerable<Type> SpecTypes(IEnumerable<Type> types) =>
        types
            .Where(t => t is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false } && typeof(TSpec).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    /// <summary>
    /// Creates the spec <paramref name="type"/> with its parameterless constructor; null (with a coded error naming it
    /// as <paramref name="kind"/>, "Spec" or "Deployment spec") when it has none or its constructor throws.
    /// </summary>
    public static SpecReader<TSpec>? Create(Type type, string kind, SourceLocator locator, DiagnosticBag diagnostics, EvaluationProgress progress)
    {
        var typeLocation = locator.Locate(type);
        if (type.GetConstructor(Type.EmptyTypes) is null)
        {
            diagnostics.Error(DiagnosticCodes.SpecNotConstructible, $"{kind} '{type.FullName}' has no public parameterless constructor. Kiln creates specs itself; give it one.", typeLocation);
            return null;
        }

        try
        {
            progress.Enter(type.FullName!, "running its constructor", typeLocation);
            return new SpecReader<TSpec>((TSpec)Activator.CreateInstance(type)!, type, kind, typeLocation, locator, diagnostics, progress);
        }
        catch (TargetInvocationException e)
        {
            diagnostics.Error(DiagnosticCodes.SpecThrew, $"{kind} '{type.FullName}' threw {Describe(e.InnerException ?? e)} in its constructor. Spec code must not fail; fix the constructor.", typeLocation);
            return null;
        }
    }

    /// <summary>Reads one property; an exception becomes KILN2001 at the getter's line and the default value.</summary>
    public T? Read<T>(string property, Func<TSpec, T?> read)
    {
        var location = _locator.Locate(_type, property);
        if (location is not null)
        {
            _locations[property] = location;
        }

        try
        {
            _progress.Enter(_type.FullName!, $"reading {property}", location ?? TypeLocation);
            return read(_spec);
        }
        catch (Exception e)
        {
            // Spec code is user code: any exception it throws is a finding about the spec, not a crash of Kiln.
            Failed = true;
            _diagnostics.Error(DiagnosticCodes.SpecThrew, $"{_kind} '{_type.FullName}' threw {Describe(e)} while reading {property}. Spec code must compute its values without failing; fix {property}.", location ?? TypeLocation);
            return default;
        }
    }

    /// <summary>Reads an array property: a default array reads as empty, a null entry is an error.</summary>
    public ImmutableArray<T> ReadArray<T>(string property, Func<TSpec, ImmutableArray<T>> read)
    {
        var value = Read(property, s => (ImmutableArray<T>?)read(s));
        if (value is not { IsDefault: false } array)
        {
            return [];
        }

        if (array.Any(item => item is null))
        {
            Failed = true;
            _diagnostics.Error(DiagnosticCodes.SpecThrew, $"{_kind} '{_type.FullName}' has a null entry in {property}. Remove it.", _locations.GetValueOrDefault(property));
        }

        return array;
    }

    /// <summary>An exception as messages name it: its type and message.</summary>
    public static string Describe(Exception e) => $"{e.GetType().Name} ('{e.Message}')";
}
