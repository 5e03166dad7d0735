using System.Collections.Immutable;

namespace Kiln.Spec;

/// <summary>
/// A server, declared as a type. Derive from it, override what differs from the defaults, and
/// <c>dotnet build</c> turns every non-abstract subclass into one OCI image tagged <c>Name:Version</c>.
/// </summary>
/// <remarks>
/// Every member is get-only: a spec describes one immutable image. Changing anything is a new
/// <see cref="Version"/>, a new image and a rollout that replaces the old instances.
/// </remarks>
public abstract class ServerSpec
{
    /// <summary>The image name: lower-case letters, digits and single separators (<c>.</c>, <c>_</c>, <c>-</c>).</summary>
    public abstract string Name { get; }

    /// <summary>A SemVer 2.0 version (<c>1.4.0</c>, <c>2.0.0-rc.1</c>). It is the image's tag; the digest is its identity.</summary>
    public abstract string Version { get; }

    /// <summary>The image the layers are stacked on. Defaults to <see cref="BaseImage.Scratch"/> (nothing).</summary>
    public virtual BaseImage Base => BaseImage.Scratch;

    /// <summary>The layers, bottom first. Each becomes one OCI layer.</summary>
    public virtual ImmutableArray<Layer> Layers => [];

    /// <summary>The account processes run as. Non-root by default.</summary>
    public virtual Account Account => Account.Default;

    /// <summary>The absolute working directory of the entrypoint.</summary>
    public virtual string WorkingDirectory => "/";

    /// <summary>The program started in the container, in exec form.</summary>
    public virtual Entrypoint? Entrypoint => null;

    /// <summary>Default arguments appended to the entrypoint (the image's <c>Cmd</c>).</summary>
    public virtual ImmutableArray<string> Arguments => [];

    /// <summary>Environment variables baked into the image. Secrets never go here: see <see cref="Secrets"/>.</summary>
    public virtual ImmutableArray<EnvironmentVariable> Environment => [];

    /// <summary>The ports the server listens on.</summary>
    public virtual ImmutableArray<Port> Ports => [];

    /// <summary>How the platform tells that an instance is healthy. <see langword="null"/> means none.</summary>
    public virtual HealthCheck? Health => null;

    /// <summary>Resource limits applied to the server's processes.</summary>
    public virtual Limits Limits => Limits.None;

    /// <summary>Image labels (<c>org.opencontainers.image.*</c> and your own).</summary>
    public virtual ImmutableArray<Label> Labels => [];

    /// <summary>
    /// Absolute paths that the server may write to at run time (mounted as volumes; the root file system
    /// is otherwise read-only). Changes under them are not drift.
    /// </summary>
    public virtual ImmutableArray<string> Volumes => [];

    /// <summary>Secrets the platform supplies at run time, by name only; never a value.</summary>
    public virtual ImmutableArray<SecretReference> Secrets => [];

    /// <summary>
    /// The platforms the server is built for, in the order the image index lists them. One platform (the default,
    /// linux/amd64) makes a plain image manifest; two or more make one image per platform under an OCI image index
    /// tagged <c>Name:Version</c>. A self-contained <see cref="Layer.PublishOutput"/> without a runtime identifier is
    /// published once per platform; a framework-dependent one is the same layer on every platform.
    /// </summary>
    /// <example><c>public override ImmutableArray&lt;Platform&gt; Platforms =&gt; [Platform.LinuxAmd64, Platform.LinuxArm64];</c></example>
    public virtual ImmutableArray<Platform> Platforms => [Platform.LinuxAmd64];
}
