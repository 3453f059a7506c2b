// Bare Kestrel for bench/run.sh: the host our server runs on (WebApplication, Kestrel with its default settings,
// Production environment, the same runtime settings), with nothing of ours: two GET endpoints, each writing a fixed
// JSON document read once at start. DOCUMENT_DIR holds discovery.json and jwks.json (run.sh saves our server's own
// answers there, so the bytes are the same); a file that is missing is replaced by a small fixed document.
using System.Text;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

var folder = Environment.GetEnvironmentVariable("DOCUMENT_DIR") ?? ".";
MapDocument("/.well-known/openid-configuration", Path.Combine(folder, "discovery.json"));
MapDocument("/.well-known/jwks", Path.Combine(folder, "jwks.json"));
app.Run();

void MapDocument(string path, string file)
{
    var body = File.Exists(file) ? File.ReadAllBytes(file) : Encoding.UTF8.GetBytes("""{"issuer":"http://127.0.0.1","keys":[]}""");
    app.MapGet(path, (HttpContext context) =>
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body).AsTask();
    });
}
