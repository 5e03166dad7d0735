using System.Text;
using Kiln.Oci.Registry;

namespace Kiln.Oci.Tests.Registry;

public sealed class DockerConfigCredentialsTests : IDisposable
{
    private readonly string _config = Path.Combine(Path.GetTempPath(), $"kiln-docker-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(_config);

    [Fact]
    public void Find_AuthsEntry_DecodesUserAndPassword()
    {
        File.WriteAllText(_config, AuthsJson("https://registry.example.com", "ci:p@ss:word"));
        var credential = new DockerConfigCredentials(_config).Find("registry.example.com");
        Assert.Equal("ci", credential!.Username);
        Assert.Equal("p@ss:word", credential.Secret);
        Assert.DoesNotContain("p@ss", credential.ToString());
    }

    [Fact]
    public void Find_CredHelperForRegistry_RunsHelperWithServerUrl()
    {
        File.WriteAllText(_config, """{"credHelpers":{"ghcr.io":"fake"},"credsStore":"other","auths":{"ghcr.io":{"auth":"eDp5"}}}""");
        string? called = null;
        var source = new DockerConfigCredentials(_config, (program, server) =>
        {
            called = $"{program} {server}";
            return """{"ServerURL":"ghcr.io","Username":"bot","Secret":"tok"}""";
        });
        var credential = source.Find("ghcr.io");
        Assert.Equal("docker-credential-fake ghcr.io", called);
        Assert.Equal(("bot", "tok"), (credential!.Username, credential.Secret));
    }

    [Fact]
    public void Find_CredsStoreOnly_UsesDefaultStore_AndHelperWithoutCredentialsGivesNull()
    {
        File.WriteAllText(_config, """{"credsStore":"pass"}""");
        var source = new DockerConfigCredentials(_config, (program, _) => program == "docker-credential-pass" ? null : throw new InvalidOperationException());
        Assert.Null(source.Find("quay.io"));
    }

    [Fact]
    public void Find_NoFile_Null() => Assert.Null(new DockerConfigCredentials(_config + ".missing").Find("x.io"));

    [Fact]
    public void Find_BrokenJson_CredentialSourceFailure()
    {
        File.WriteAllText(_config, "{not json");
        var e = Assert.Throws<RegistryException>(() => new DockerConfigCredentials(_config).Find("x.io"));
        Assert.Equal(RegistryFailure.CredentialSource, e.Failure);
    }

    private static string AuthsJson(string host, string userColonPassword) =>
        "{\"auths\":{\"" + host + "\":{\"auth\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes(userColonPassword)) + "\"}}}";
}
