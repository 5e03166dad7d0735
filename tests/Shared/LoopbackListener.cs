using System.Net;
using System.Net.Sockets;

namespace Kiln.Tests.Shared;

/// <summary>The ports and the teardown of the test servers that listen on 127.0.0.1 (registries, Debian mirrors).</summary>
internal static class LoopbackListener
{
    /// <summary>A port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>
    /// Closes <paramref name="listener"/>. Close alone: it stops the listener too. Stop first and Close then unregisters
    /// the prefix a second time, which binds the port again to look its endpoint up, and fails when another test has
    /// taken the port meanwhile.
    /// </summary>
    public static void Close(HttpListener listener)
    {
        try
        {
            listener.Close();
        }
        catch (HttpListenerException)
        {
            // the port was released already
        }
    }
}
