"""axe-core in the browser tests: every page a journey visits is checked against WCAG 2.2 AA,
and serious or critical violations fail the journey with a readable report.

axe-core comes from npm (package.json devDependencies, installed by `make setup`). axe does
not run in the visitor's page itself: a page opened with JavaScript off cannot run it, and in
a page with htmx, axe's colour checks leave empty `style` attributes behind that htmx then
copies onto swapped-in elements, which the app's Content-Security-Policy (rightly) refuses.
So the page's DOM, as the visitor has it now, is replayed without its scripts in a context of
our own, at the same address and window size so that the stylesheets load and contrast and
target sizes are measured on the real layout. Playwright evaluates axe's file there through
the DevTools protocol (an injected <script> tag would need the CSP bypassed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import expect

from core.settings import ROOT

AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING = ("serious", "critical")
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)

RUN = """tags => axe.run(document, {runOnly: {type: "tag", values: tags},
                                resultTypes: ["violations"]})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                     url: v.helpUrl,
                                     nodes: v.nodes.map(n => ({target: n.target.join(" "),
                                                               html: n.html,
                                                               summary: n.failureSummary}))})))"""


@dataclass
class Finding:
    where: str
    url: str
    violations: list[dict[str, Any]] = field(default_factory=list)


class AxeChecker:
    """Checks pages with axe-core and keeps what it found, page by page."""

    def __init__(self, browser: Any) -> None:
        if not AXE_JS.exists():
            raise RuntimeError(f"{AXE_JS} is missing: run `make setup` (npm ci)")
        self.source = AXE_JS.read_text(encoding="utf-8")
        self.browser = browser
        self.findings: list[Finding] = []
        self._replay: Any = None
        self._html = ""

    def _replay_page(self) -> Any:
        if self._replay is None:
            context = self.browser.new_context(java_script_enabled=True, bypass_csp=True)
            page = context.new_page()

            def serve(route: Any) -> None:
                if route.request.resource_type == "document":
                    route.fulfill(status=200, body=self._html,
                                  content_type="text/html; charset=utf-8")
                elif route.request.resource_type == "stylesheet":
                    route.continue_()
                else:  # images and scripts are not needed to judge the page
                    route.abort()

            page.route("**/*", serve)
            self._replay = page
        return self._replay

    def check(self, page: Any, where: str) -> list[dict[str, Any]]:
        """Run axe on the page as it is now; return its serious and critical violations.

        A click on a link returns before the next document has arrived, so the page is first
        awaited to hold a whole document (every page of ours has a <title> in the <head>):
        reading it mid-navigation gave axe an empty <html> to judge.
        """
        expect(page.locator("head > title")).to_have_count(1)
        page.wait_for_load_state("load")
        self._html = SCRIPT.sub("", page.content())
        target = self._replay_page()
        if page.viewport_size and page.viewport_size != target.viewport_size:
            target.set_viewport_size(page.viewport_size)
        target.goto("about:blank")  # a new document even when only the #fragment differs
        target.goto(page.url.split("#", 1)[0], wait_until="load")
        target.evaluate(self.source)
        found = [v for v in target.evaluate(RUN, TAGS) if v["impact"] in FAILING]
        self.findings.append(Finding(where, page.url, found))
        return found

    def close(self) -> None:
        if self._replay is not None:
            self._replay.context.close()
            self._replay = None

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.violations]

    def report(self, findings: list[Finding] | None = None) -> str:
        """The failing pages, each violation with its rule, impact and offending elements."""
        lines = []
        for finding in self.failures if findings is None else findings:
            lines.append(f"== {finding.where} ({finding.url})")
            for v in finding.violations:
                lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}  <{v['url']}>")
                for node in v["nodes"][:5]:
                    lines.append(f"    at {node['target']}")
                    lines.append(f"       {node['html'][:200]}")
                    summary = " ".join(node["summary"].split())
                    lines.append(f"       {summary[:300]}")
                if len(v["nodes"]) > 5:
                    lines.append(f"    ... and {len(v['nodes']) - 5} more elements")
        return "\n".join(lines)

    def assert_clean(self) -> None:
        assert not self.failures, (f"axe-core found serious or critical WCAG 2.2 AA "
                                   f"violations on {len(self.failures)} of "
                                   f"{len(self.findings)} pages:\n{self.report()}")
