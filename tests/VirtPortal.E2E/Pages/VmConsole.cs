using Microsoft.Playwright;

namespace VirtPortal.E2E.Pages;

/// <summary>The console panel on a VM's page, and what its canvas shows.</summary>
public sealed class VmConsole(IPage page)
{
    public ILocator Open => page.GetByTestId("console-open");

    public ILocator State => page.GetByTestId("console-state");

    public ILocator StateReason => page.GetByTestId("console-state-reason");

    public ILocator ViewOnly => page.GetByTestId("console-view-only");

    public ILocator Unavailable => page.GetByTestId("console-unavailable");

    public ILocator Reconnect => page.GetByTestId("console-reconnect");

    public ILocator Fullscreen => page.GetByTestId("console-fullscreen");

    public ILocator CtrlAltDel => page.GetByTestId("console-ctrl-alt-del");

    public ILocator TypeText => page.GetByTestId("console-type-text");

    public ILocator TypeTextInput => page.GetByTestId("console-type-text-input");

    public ILocator TypeTextSend => page.GetByTestId("console-type-text-send");

    public ILocator TypeTextResult => page.GetByTestId("console-type-text-result");

    public ILocator Screen => page.GetByTestId("console-screen");

    public ILocator Canvas => page.GetByTestId("console-canvas");

    /// <summary>Types <paramref name="text"/> into the guest through the "type text" field.</summary>
    public async Task TypeAsync(string text)
    {
        if (!await TypeTextInput.IsVisibleAsync())
            await TypeText.ClickAsync();
        await TypeTextInput.FillAsync(text);
        await TypeTextSend.ClickAsync();
    }

    // The canvas's size, its colours (up to 16 counted) and a hash of its pixels, read in the page (the
    // canvas is the page's own, so its pixels are readable); null before noVNC has drawn a canvas.
    private const string Sample = """
        () => {
          const canvas = document.querySelector("[data-testid=console-canvas]");
          if (!canvas || !canvas.width || !canvas.height)
            return null;
          const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          const colours = new Set();
          let hash = 0;
          for (let i = 0; i < data.length; i += 4) {
            const colour = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
            if (colours.size < 16)
              colours.add(colour);
            hash = (Math.imul(hash, 31) + colour) >>> 0;
          }
          return { width: canvas.width, height: canvas.height, colours: colours.size, hash };
        }
        """;

    public async Task<CanvasSample?> SampleAsync() => await page.EvaluateAsync<CanvasSample?>(Sample);

    /// <summary>Waits until the canvas shows more than one colour: the guest's screen, not an empty frame.</summary>
    public async Task<CanvasSample> WaitUntilDrawnAsync(float timeoutMs)
    {
        await page.WaitForFunctionAsync($"() => (({Sample})()?.colours ?? 0) > 1", null, new() { Timeout = timeoutMs, PollingInterval = 200 });
        return (await SampleAsync())!;
    }

    /// <summary>Waits until the canvas's pixels differ from <paramref name="before"/>'s.</summary>
    public async Task<CanvasSample> WaitUntilChangedAsync(CanvasSample before, float timeoutMs)
    {
        ArgumentNullException.ThrowIfNull(before);
        await page.WaitForFunctionAsync($"before => {{ const now = ({Sample})(); return now !== null && now.hash !== before; }}", before.Hash,
            new() { Timeout = timeoutMs, PollingInterval = 200 });
        return (await SampleAsync())!;
    }
}

/// <summary>The canvas's size, its colours (up to 16 counted) and a hash of its pixels (settable: Playwright fills it).</summary>
public sealed class CanvasSample
{
    public int Width { get; set; }

    public int Height { get; set; }

    public int Colours { get; set; }

    public long Hash { get; set; }
}
