var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();
app.UseDefaultFiles();
app.UseStaticFiles();
app.MapGet("/healthz", () => Results.Text("ok"));
app.Run();
