using System.Text.Json;
using Kiln.Engine.IO;

namespace Kiln.Engine.Run;

/// <summary>
/// The OCI runtime bundle's config.json for a <see cref="RunSpec"/> (runtime-spec 1.0.2, as runc reads it): the spec's
/// user, a read-only root, the declared volumes as tmpfs, the declared open-files and process limits, the image's
/// environment, no capabilities and no new privileges. The network namespace is the host's, so that a server
/// listening on 127.0.0.1 can be health-checked (and reached) from the host, as in a pod.
/// </summary>
internal static class RuntimeConfig
{
    /// <summary>runc's own default when the spec declares no open-files limit.</summary>
    public const int DefaultOpenFiles = 1024;

    public static byte[] Create(RunSpec spec) => JsonText.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("ociVersion", "1.0.2");

        w.WriteStartObject("process");
        w.WriteBoolean("terminal", false);
        w.WriteStartObject("user");
        w.WriteNumber("uid", spec.Uid);
        w.WriteNumber("gid", spec.Gid);
        w.WriteEndObject();
        Strings(w, "args", spec.Args);
        Strings(w, "env", spec.Environment);
        w.WriteString("cwd", spec.WorkingDirectory);
        w.WriteStartObject("capabilities");
        foreach (var set in new[] { "bounding", "effective", "inheritable", "permitted", "ambient" })
        {
            Strings(w, set, []);
        }

        w.WriteEndObject();
        w.WriteStartArray("rlimits");
        Rlimit(w, "RLIMIT_NOFILE", spec.OpenFiles ?? DefaultOpenFiles);
        if (spec.Processes is { } processes)
        {
            Rlimit(w, "RLIMIT_NPROC", processes);
        }

        w.WriteEndArray();
        w.WriteBoolean("noNewPrivileges", true);
        w.WriteEndObject();

        w.WriteStartObject("root");
        w.WriteString("path", "rootfs");
        w.WriteBoolean("readonly", true);
        w.WriteEndObject();
        w.WriteString("hostname", spec.Name.Replace('_', '-').Replace('.', '-'));

        w.WriteStartArray("mounts");
        Mount(w, "/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]);
        Mount(w, "/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]);
        Mount(w, "/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]);
        Mount(w, "/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]);
        Mount(w, "/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]);
        Mount(w, "/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]);
        if (spec.Emulator is not null)
        {
            Mount(w, RunEmulation.ContainerPath, "bind", spec.Emulator, ["bind", "ro", "nosuid", "nodev"]);
        }

        foreach (var volume in spec.Volumes)
        {
            // The only writable places: empty at every start, owned by the server's account, like an emptyDir.
            Mount(w, volume, "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777", $"uid={spec.Uid}", $"gid={spec.Gid}"]);
        }

        w.WriteEndArray();

        w.WriteStartObject("linux");
        w.WriteStartArray("namespaces");
        foreach (var ns in new[] { "pid", "ipc", "uts", "mount" })
        {
            w.WriteStartObject();
            w.WriteString("type", ns);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("resources");
        w.WriteStartArray("devices");
        w.WriteStartObject();
        w.WriteBoolean("allow", false);
        w.WriteString("access", "rwm");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        Strings(w, "maskedPaths", ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"]);
        Strings(w, "readonlyPaths", ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]);
        w.WriteEndObject();

        w.WriteEndObject();
    });

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }

    private static void Rlimit(Utf8JsonWriter w, string type, long value)
    {
        w.WriteStartObject();
        w.WriteString("type", type);
        w.WriteNumber("hard", value);
        w.WriteNumber("soft", value);
        w.WriteEndObject();
    }

    private static void Mount(Utf8JsonWriter w, string destination, string type, string source, string[] options)
    {
        w.WriteStartObject();
        w.WriteString("destination", destination);
        w.WriteString("type", type);
        w.WriteString("source", source);
        Strings(w, "options", options);
        w.WriteEndObject();
    }
}
