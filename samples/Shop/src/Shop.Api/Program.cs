var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();

var products = new[]
{
    new Product(1, "Stoneware mug", 14.50m),
    new Product(2, "Porcelain bowl", 22.00m),
    new Product(3, "Glazed plate", 18.75m),
};

app.MapGet("/healthz", () => Results.Text("ok"));
app.MapGet("/products", () => products);
app.MapGet("/products/{id:int}", (int id) => products.FirstOrDefault(p => p.Id == id) is { } p ? Results.Ok(p) : Results.NotFound());
app.Run();

internal sealed record Product(int Id, string Name, decimal Price);
