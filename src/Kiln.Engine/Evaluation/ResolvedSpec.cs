using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Evaluation;

/// <summary>
/// What every evaluated spec (server or deployment) carries for its errors: the spec type and where its properties are
/// declared, so that a problem found after evaluation still points at the spec's line.
/// </summary>
public abstract record ResolvedSpec
{
    /// <summary>The spec's full type name.</summary>
    public required string SpecType { get; init; }

    /// <summary>Where the spec type is declared (absolute path), when the PDB tells.</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>Source locations of individual properties, for errors.</summary>
    public ImmutableDictionary<string, SourceLocation> PropertyLocations { get; init; } = ImmutableDictionary<string, SourceLocation>.Empty;

    /// <summary>The best location for a problem with <paramref name="property"/>.</summary>
    public SourceLocation? LocationOf(string property) => PropertyLocations.TryGetValue(property, out var location) ? location : Location;
}
