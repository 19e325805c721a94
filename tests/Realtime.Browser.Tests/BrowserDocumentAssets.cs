using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>
/// What the document pages load besides the client: ot-json0 1.1.0 from npm, unchanged, served at <c>/ot-json0.js</c> as an ES
/// module. The package is CommonJS (four files under <c>lib/</c>), so each file is wrapped in a function of
/// <c>module</c>, <c>exports</c> and <c>require</c>, and the module's default export is what <c>lib/index.js</c> exports.
/// It comes from the client package's dev dependencies (<c>npm ci</c> in src/Client/realtime-client-js).
/// </summary>
internal static class BrowserDocumentAssets
{
    private static readonly Lazy<string> OtJson0 = new(Bundle);

    /// <summary>Where ot-json0's files are.</summary>
    public static string OtJson0Folder => Path.Combine(RepositoryPaths.BrowserClient, "node_modules", "ot-json0", "lib");

    /// <summary>Maps <c>GET /ot-json0.js</c>.</summary>
    public static void Map(WebApplication app)
        => app.MapGet("/ot-json0.js", () => Results.Content(OtJson0.Value, "text/javascript; charset=utf-8"));

    private static string Bundle()
    {
        if (!Directory.Exists(OtJson0Folder))
        {
            throw new InvalidOperationException($"ot-json0 is not installed in {OtJson0Folder}: run 'npm ci' in src/Client/realtime-client-js.");
        }

        var module = new StringBuilder("const files = {\n");
        foreach (string file in Directory.GetFiles(OtJson0Folder, "*.js").Order(StringComparer.Ordinal))
        {
            module.Append("  \"./").Append(Path.GetFileNameWithoutExtension(file)).Append("\": function (module, exports, require) {\n")
                  .Append(File.ReadAllText(file)).Append("\n  },\n");
        }

        module.Append("""
            };
            const loaded = {};
            function load(name) {
              const key = name.replace(/\.js$/, "");
              if (!loaded[key]) {
                loaded[key] = { exports: {} };
                files[key](loaded[key], loaded[key].exports, load);
              }
              return loaded[key].exports;
            }
            export default load("./index");
            """);
        return module.ToString();
    }
}
