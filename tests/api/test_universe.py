"""The universe: CSV imports (ours and NSE index lists), CRUD over the API, prod auth."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from quantdesk.domain.enums import CapTier
from quantdesk.storage.universe import UniverseStore
from tests.api.conftest import KEY, Api

FIXTURES = Path(__file__).parents[1] / "fixtures" / "universe"
AUTH = {"X-API-Key": KEY, "Content-Type": "text/csv"}


def test_an_nse_index_list_imports_with_upstox_keys_and_skips_bad_rows(dev: Api) -> None:
    store = UniverseStore(dev.database)
    text = (FIXTURES / "nifty_sample.csv").read_text()
    result = store.import_csv(text, "NSE", CapTier.LARGE)
    assert (result.added, result.updated) == (2, 0)
    assert result.skipped == [
        "line 4: series 'BE' is not EQ",
        "line 5: ISIN 'NOTANISIN' is not 12 letters and digits",
    ]
    bank = store.get("NSE", "SAMPBANK")
    assert bank is not None and bank.token == "NSE_EQ|INE000B01012"
    assert bank.sector == "Financial Services" and bank.cap_tier is CapTier.LARGE
    assert bank.tick_size == Decimal("0.05") and bank.lot_size == 1
    again = store.import_csv(text, "NSE", CapTier.LARGE)
    assert (again.added, again.updated) == (0, 2)  # idempotent


def test_our_csv_format_and_filters(dev: Api) -> None:
    store = UniverseStore(dev.database)
    store.import_csv(
        "symbol,venue,tick_size,lot_size,token,cap_tier,sector\n"
        "AAA,NSE,0.05,1,NSE_EQ|X1,MID,Energy\n"
        "BBB,NSE,0.10,1,NSE_EQ|X2,small,Energy\n"
        "CCC,NSE,oops,1,,LARGE,IT\n"
    )
    assert [i.symbol for i in store.list(sector="Energy")] == ["AAA", "BBB"]
    assert [i.symbol for i in store.list(cap_tier="SMALL")] == ["BBB"]


def test_crud_over_the_api_needs_the_key_in_prod(prod: Api) -> None:
    csv_text = (FIXTURES / "nifty_sample.csv").read_text()
    assert prod.client.post("/universe/import", content=csv_text,
                            headers={"Content-Type": "text/csv"}).status_code == 401  # fmt: skip
    imported = prod.client.post("/universe/import?cap_tier=LARGE", content=csv_text, headers=AUTH)
    assert imported.status_code == 200 and imported.json()["added"] == 2
    listed = prod.client.get("/universe", params={"sector": "Information Technology"}).json()
    assert [i["symbol"] for i in listed] == ["EXINFO"]
    body = {"tick_size": "0.10", "lot_size": "1", "token": "NSE_EQ|INE000A01011"}
    put = prod.client.put("/universe/NSE/EXINFO", json=body, headers={"X-API-Key": KEY})
    assert put.status_code == 200 and put.json()["tick_size"] == "0.10"
    assert prod.client.put("/universe/NSE/EXINFO", json={"tick_size": "-1"},
                           headers={"X-API-Key": KEY}).status_code == 422  # fmt: skip
    assert prod.client.delete("/universe/NSE/EXINFO").status_code == 401
    assert prod.client.delete("/universe/NSE/EXINFO", headers={"X-API-Key": KEY}).status_code == 204
    assert prod.client.get("/universe/NSE/EXINFO").status_code == 404
    bad = prod.client.post("/universe/import", content="a,b\n1,2\n", headers=AUTH)
    assert bad.status_code == 400 and "unknown CSV header" in bad.json()["detail"]


def test_the_cli_imports_and_lists(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from quantdesk.cli import app

    monkeypatch.setenv("QD_DATABASE_URL", f"sqlite:///{tmp_path / 'u.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    imported = runner.invoke(
        app, ["universe", "import", str(FIXTURES / "nifty_sample.csv"), "--cap-tier", "LARGE"]
    )
    assert imported.exit_code == 0, imported.output
    assert "2 added, 0 updated" in imported.output and "line 4: series 'BE'" in imported.output
    listed = runner.invoke(app, ["universe", "list", "--sector", "Financial Services"])
    assert listed.exit_code == 0 and "SAMPBANK" in listed.output and "EXINFO" not in listed.output
    missing = runner.invoke(app, ["universe", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
