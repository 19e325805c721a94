using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Realtime.TestSupport;

namespace Realtime.Browser.Tests;

/// <summary>
/// What the document pages load besides the client: ot-json0 1.1.0 and ot-text-unicode 4.0.0 from npm, unchanged, served at
/// <c>/ot-json0.js</c> and <c>/ot-text-unicode.js</c> as ES modules. The packages are CommonJS, so each of their files is
/// wrapped in a function of <c>module</c>, <c>exports</c> and <c>require</c>, and the module's default export is what the
/// package's main file exports. They come from the client package's dev dependencies (<c>npm ci</c> in
/// src/Client/realtime-client-js).
/// </summary>
internal static class BrowserDocumentAssets
{
    private static readonly Lazy<string> OtJson0 = new(() => Bundle("ot-json0/lib/index", "ot-json0/lib"));
    private static readonly Lazy<string> OtTextUnicode = new(() => Bundle("ot-text-unicode/dist/index", "ot-text-unicode/dist", "unicount"));

    private static string NodeModules => Path.Combine(RepositoryPaths.BrowserClient, "node_modules");

    /// <summary>Maps <c>GET /ot-json0.js</c> and <c>GET /ot-text-unicode.js</c>.</summary>
    public static void Map(WebApplication app)
    {
        app.MapGet("/ot-json0.js", () => Results.Content(OtJson0.Value, "text/javascript; charset=utf-8"));
        app.MapGet("/ot-text-unicode.js", () => Results.Content(OtTextUnicode.Value, "text/javascript; charset=utf-8"));
    }

    /// <summary>
    /// An ES module of the CommonJS files in <paramref name="folders"/> (under node_modules, not recursive), whose default
    /// export is the exports of <paramref name="entry"/>. A file is known by its path without ".js"; <c>require("./x")</c>
    /// is resolved beside the requiring file and <c>require("pkg")</c> as <c>pkg/index</c>.
    /// </summary>
    private static string Bundle(string entry, params string[] folders)
    {
        var module = new StringBuilder("const files = {\n");
        foreach (string folder in folders)
        {
            string path = Path.Combine(NodeModules, folder);
            if (!Directory.Exists(path))
            {
                throw new InvalidOperationException($"{path} is not installed: run 'npm ci' in src/Client/realtime-client-js.");
            }

            foreach (string file in Directory.GetFiles(path, "*.js").Order(StringComparer.Ordinal))
            {
                module.Append("  \"").Append(folder).Append('/').Append(Path.GetFileNameWithoutExtension(file)).Append("\": function (module, exports, require) {\n")
                      .Append(File.ReadAllText(file)).Append("\n  },\n");
            }
        }

        module.Append("""
            };
            const loaded = {};
            function load(key) {
              if (!loaded[key]) {
                const dir = key.slice(0, key.lastIndexOf("/") + 1);
                const require = (name) => load((name.startsWith("./") ? dir + name.slice(2) : name + "/index").replace(/\.js$/, ""));
                loaded[key] = { exports: {} };
                files[key](loaded[key], loaded[key].exports, require);
              }
              return loaded[key].exports;
            }
            """).Append("\nexport default load(\"").Append(entry).Append("\");\n");
        return module.ToString();
    }
}
