namespace Kiln.Spec;

/// <summary>The account a server's processes run as.</summary>
/// <param name="Name">The account name (written to /etc/passwd when the base is built from packages).</param>
/// <param name="Uid">The numeric user id.</param>
/// <param name="Gid">The numeric group id.</param>
public sealed record Account(string Name, int Uid, int Gid)
{
    /// <summary>The default: <c>app</c>, uid and gid 10001.</summary>
    public static Account Default { get; } = new("app", 10001, 10001);

    /// <summary>root (uid 0). Kiln's analyzers warn about it: a compromised process then owns the instance.</summary>
    public static Account Root { get; } = new("root", 0, 0);

    /// <summary>A non-root account; the group id defaults to the user id.</summary>
    public static Account NonRoot(string name, int uid, int? gid = null) => new(name, uid, gid ?? uid);
}
