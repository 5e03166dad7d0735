namespace Kiln.Spec;

/// <summary>An environment variable baked into the image.</summary>
public sealed record EnvironmentVariable(string Name, string Value);

/// <summary>An image label.</summary>
public sealed record Label(string Key, string Value);

/// <summary>A secret the platform supplies at run time. Only its name is in the spec, never its value.</summary>
/// <param name="Name">The platform's name for the secret.</param>
/// <param name="EnvironmentVariable">Expose it as this variable, or</param>
/// <param name="Path">mount it as a file at this absolute path.</param>
public sealed record SecretReference(string Name, string? EnvironmentVariable = null, string? Path = null);

/// <summary>The transport protocol of a port.</summary>
public enum Protocol
{
    /// <summary>TCP</summary>
    Tcp,

    /// <summary>UDP</summary>
    Udp,
}

/// <summary>A port the server listens on.</summary>
public sealed record Port(int Number, Protocol Protocol = Protocol.Tcp, string? Name = null)
{
    /// <summary>A TCP port.</summary>
    public static Port Tcp(int number, string? name = null) => new(number, Protocol.Tcp, name);

    /// <summary>A UDP port.</summary>
    public static Port Udp(int number, string? name = null) => new(number, Protocol.Udp, name);

    /// <summary>The OCI form: <c>8080/tcp</c>.</summary>
    public override string ToString() => $"{Number}/{(Protocol == Protocol.Tcp ? "tcp" : "udp")}";
}

/// <summary>Process limits applied to the server.</summary>
public sealed record Limits
{
    /// <summary>No limits declared.</summary>
    public static Limits None { get; } = new();

    /// <summary>The open-files limit (RLIMIT_NOFILE).</summary>
    public int? OpenFiles { get; init; }

    /// <summary>The process limit (RLIMIT_NPROC).</summary>
    public int? Processes { get; init; }
}

/// <summary>How the platform decides that an instance is healthy.</summary>
public abstract record HealthCheck
{
    private protected HealthCheck() { }

    /// <summary>Time between checks.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time a check may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Grace period after start during which failures do not count.</summary>
    public TimeSpan StartPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Consecutive failures before the instance is unhealthy.</summary>
    public int Retries { get; init; } = 3;

    /// <summary>An HTTP GET that must answer 2xx or 3xx.</summary>
    public static HttpHealthCheck Http(int port, string path = "/healthz") => new(port, path);

    /// <summary>A program run inside the container that must exit 0 (exec form).</summary>
    public static CommandHealthCheck Command(string program, params string[] arguments) => new([program, .. arguments]);
}

/// <summary>An HTTP health check.</summary>
public sealed record HttpHealthCheck(int Port, string Path) : HealthCheck;

/// <summary>A command health check.</summary>
public sealed record CommandHealthCheck(System.Collections.Immutable.ImmutableArray<string> Argv) : HealthCheck;
