namespace VirtPortal.BenchKit;

/// <summary>Where the checkout is, found from the current directory or the bench's own output.</summary>
public static class Repository
{
    /// <summary>The directory holding VirtPortal.sln above the current directory or the running bench.</summary>
    public static string FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "VirtPortal.sln")))
                    return dir.FullName;
            }
        }

        throw new InvalidOperationException("VirtPortal.sln not found above the current directory or the bench's own.");
    }

    /// <summary>The short commit id of HEAD, with "+ changes" when the work tree differs from it.</summary>
    public static async Task<string> CommitAsync(string root)
    {
        var head = await Commands.RunAsync("git", ["rev-parse", "--short", "HEAD"], TimeSpan.FromSeconds(30), root);
        var status = await Commands.RunAsync("git", ["status", "--porcelain", "--untracked-files=no"], TimeSpan.FromSeconds(30), root);
        return head.Output + (status.Ok && status.Output.Length > 0 ? " + uncommitted changes" : "");
    }
}
