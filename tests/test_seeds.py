"""The sample corpus, line by line: article lines survive, every piece of chrome goes, with its reason."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import RAW

from pipeline.rules import RuleSet

TEASERS_003 = [
    "Watch Queer Eye’s Karamo Brown react to Antoni’s Gay Times cover shoot",
    "Find out which country is the most LGBTQ-friendly – and which is the least",
    "15 of the best LGBTQ anthems that have been released in 2018 so far",
    "Lady Gaga’s new album: Release date, collaborations, and everything else you need to know",
    "Here’s when you can watch the Sense8 finale episode",
    "Watch the behind-the-scenes video of Queer Eye Antoni’s Gay Times cover shoot",
    "The cast of Sabrina the Teenage Witch reunited 15 years after the show’s finale",
    "Queer Eye season 2 on Netflix: Start date, cast, teaser and everything else we know so far",
]

# Line prefix -> rule id that must remove it. Every line not listed must be kept.
EXPECTED_REMOVED: dict[str, dict[str, str]] = {
    "000_005e995acf7c9fe1": {
        "1 thought on “Russian Diplomat": "comment_section_header_v1",
        "1. Why should anyone be surprised": "comment_section_header_v1",
        "What do you think?": "comment_section_header_v1",
        "This site uses Akismet to reduce spam.": "akismet_notice_v1",
    },
    "001_0facd56388db18ab": {
        "Petition: Stop the persecution": "petition_link_v1",
    },
    "002_60805fbeb22a933d": {
        "Be first to like this.": "like_prompt_v1",
        "This post is also available in: Español": "language_also_available_v1",
        "RELATED | Chechnya Murdered": "related_inline_link_v1",
        "RELATED | Chechnya’s Anti-Gay Government": "related_inline_link_v1",
        "Featured image by photovideostock via iStock": "featured_image_credit_v1",
        "Related Stories": "related_list_header_v1",
        "28 Years Ago, Rage Against the Machine": "related_list_header_v1",
        "We Asked a Gay Proctologist": "related_list_header_v1",
        "Jason June, Star Genderqueer Author": "related_list_header_v1",
    },
    "003_52cc8d1029ea206c": {
        "© en.kremlin.ru": "copyright_credit_v1",
        "Justin Trudeau via Facebook": "image_credit_via_v1",
        "Press enter to search": "site_ui_text_v1",
        **{t: "trailing_teaser_block_v1" for t in TEASERS_003},
    },
    "004_8603d2a1b1dc66df": {
        "Now Reading": "site_ui_text_v1",
        "Chechen President Ramzan Kadyrov. Photo: Chechnya Today": "caption_photo_credit_v1",
    },
}

# (doc_id, para_idx) -> (rule id, dup_of) for copies the dedup stage must remove.
EXPECTED_DUPLICATES = {
    ("002_60805fbeb22a933d", 1): ("exact_duplicate_v1", "002_60805fbeb22a933d:0"),
    ("004_8603d2a1b1dc66df", 2): ("exact_duplicate_v1", "004_8603d2a1b1dc66df:1"),
    ("004_8603d2a1b1dc66df", 14): ("near_duplicate_minhash_v1", "003_52cc8d1029ea206c:11"),
}


def _lines(doc_id: str) -> list[str]:
    text = (RAW / f"{doc_id}.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("doc_id", sorted(EXPECTED_REMOVED))
def test_every_line_has_the_expected_fate(doc_id: str, sample_paragraphs: pd.DataFrame,
                                          rules: RuleSet) -> None:
    paras = sample_paragraphs[sample_paragraphs.doc_id == doc_id].sort_values("para_idx")
    assert list(paras.text) == _lines(doc_id), "paragraphs must be the non-empty lines, in order"
    expected = EXPECTED_REMOVED[doc_id]
    for row in paras.itertuples():
        dup = EXPECTED_DUPLICATES.get((doc_id, row.para_idx))
        text = " ".join(row.text.split())  # the files use no-break spaces here and there
        rule_id = next((r for prefix, r in expected.items() if text.startswith(prefix)), None)
        if dup is not None:
            assert (row.status, row.stage, row.rule_id, row.dup_of) == ("removed", "dedup", *dup), row.text
            assert row.dup_of in row.reason and 0.8 <= row.jaccard <= 1.0 and row.similarity > 0
        elif rule_id is not None:
            rule = rules.by_id(rule_id)
            assert (row.status, row.stage, row.rule_id) == ("removed", "strip", rule_id), row.text
            assert row.reason == f"{rule.kind}: {rule.reason}"
        else:
            assert row.status == "kept", f"article line removed: {row.text!r} ({row.rule_id}: {row.reason})"
            assert pd.isna(row.rule_id) and pd.isna(row.reason)


def test_kept_lines_make_the_article_text(sample_paragraphs: pd.DataFrame,
                                          sample_articles: pd.DataFrame) -> None:
    for art in sample_articles.itertuples():
        kept = sample_paragraphs[(sample_paragraphs.doc_id == art.doc_id)
                                 & (sample_paragraphs.status == "kept")].sort_values("para_idx")
        assert art.text == "\n\n".join(kept.text)
        assert art.n_kept == len(kept)


def test_repeated_headline_and_caption_survive_at_most_once(sample_articles: pd.DataFrame) -> None:
    text_002 = sample_articles.set_index("doc_id").loc["002_60805fbeb22a933d", "text"]
    assert text_002.count("Russia Isn’t Happy About Canada Secretly Helping LGBTQ Refugees") == 1
    text_004 = sample_articles.set_index("doc_id").loc["004_8603d2a1b1dc66df", "text"]
    assert text_004.count("Canadian charity smuggles 31 gay and bi men") == 1
    assert text_004.count("Chechen President Ramzan Kadyrov. Photo") <= 1


def test_shared_quotation_survives_in_one_document_only(sample_articles: pd.DataFrame) -> None:
    quote = "We now have to focus on settlement and integration of these individuals"
    holders = [a.doc_id for a in sample_articles.itertuples()
               if any(p.strip("“‘").startswith(quote) for p in a.text.split("\n\n"))]
    assert holders == ["003_52cc8d1029ea206c"]


def test_titles_and_counts(sample_articles: pd.DataFrame) -> None:
    arts = sample_articles.set_index("doc_id")
    assert arts.loc["004_8603d2a1b1dc66df", "title"].startswith("Canadian charity smuggles")
    assert arts.loc["000_005e995acf7c9fe1", "title"].startswith("Russian Diplomat Warns Canada")
    row = arts.loc["003_52cc8d1029ea206c"]
    assert (row.n_paragraphs, row.n_removed_chrome, row.n_removed_duplicate) == (27, 11, 0)
    assert (arts.n_paragraphs == arts.n_kept + arts.n_removed_chrome + arts.n_removed_duplicate).all()


def test_sample_corpus_all_articles(sample_articles: pd.DataFrame, sample_out) -> None:
    assert len(sample_articles) == 8
    assert set(sample_articles.source_format) == {"text", "html"}
    html = sample_articles[sample_articles.source_format == "html"]
    assert html.url.notna().all() and html.title.notna().all()
    assert pd.read_parquet(sample_out / "rejects.parquet").empty
