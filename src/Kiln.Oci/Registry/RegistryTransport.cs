using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Kiln.Oci.Registry;

/// <summary>
/// The TLS transport of a registry client: the system's trust store plus the CA file given
/// (<see cref="RegistryClientOptions.CaCertificateFile"/>), and a record of whether a certificate was refused, so that
/// the client says "certificate not trusted" instead of "unreachable" and never falls back to plain HTTP for it.
/// </summary>
internal sealed class RegistryTransport
{
    private volatile bool _certificateRejected;

    /// <summary>Whether a server certificate was refused since the transport was created.</summary>
    public bool CertificateRejected => _certificateRejected;

    /// <summary>A socket handler trusting the system's CAs and those in <paramref name="caCertificateFile"/>.</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The CA file holds no PEM certificates.</exception>
    public HttpMessageHandler CreateHandler(string? caCertificateFile)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            AutomaticDecompression = DecompressionMethods.None,
        };
        X509Certificate2Collection? extra = null;
        if (caCertificateFile is not null)
        {
            extra = [];
            extra.ImportFromPemFile(caCertificateFile);
        }

        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            if (extra is not null && certificate is not null && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == 0)
            {
                // Trust the given CAs in addition to the system's: rebuild the chain with them as roots.
                using var custom = new X509Chain();
                custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                custom.ChainPolicy.CustomTrustStore.AddRange(extra);
                custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                if (custom.Build(new X509Certificate2(certificate)))
                {
                    return true;
                }
            }

            _certificateRejected = true;
            return false;
        };
        return handler;
    }
}
