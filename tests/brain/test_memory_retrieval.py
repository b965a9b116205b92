"""Tier 3 retrieval quality: on a 50-query fixture the expected record is in the top 5 (≥ 90 %).

The records are what a personal assistant accumulates about one user; each
query is phrased the way a user (or the model, searching memory) would ask,
sharing at least one content word with its record but not copying it.
"""

from __future__ import annotations

from pathlib import Path

from brain.memory import Memory

RECORDS = [
    ("fact", "The user's name is Priya Raman.", ["identity"]),
    ("fact", "Priya lives in Bristol, in a flat near the harbour.", ["home"]),
    ("fact", "Her partner is called Tomasz; they married in 2019.", ["family"]),
    ("fact", "Her daughter Maya was born in March 2021.", ["family"]),
    ("fact", "The family dog is a beagle named Biscuit.", ["pets"]),
    ("fact", "Priya works as a data engineer at a renewable energy company.", ["work"]),
    ("fact", "Her manager is Olu Adeyemi.", ["work"]),
    ("fact", "She is allergic to peanuts and carries an EpiPen.", ["health"]),
    ("fact", "Her GP surgery is Hotwells Medical Centre.", ["health"]),
    ("fact", "She drives a 2018 Nissan Leaf.", ["car"]),
    ("fact", "The car's MOT is due every November.", ["car"]),
    ("fact", "Her passport expires in August 2027.", ["travel", "documents"]),
    ("fact", "Her bank is Nationwide; the joint account is with Tomasz.", ["money"]),
    ("fact", "Council tax is paid by direct debit on the 1st of each month.", ["money", "home"]),
    ("fact", "The broadband provider is Zen, contract ends in May.", ["home"]),
    ("fact", "Her birthday is 14 July.", ["identity"]),
    ("fact", "Tomasz's birthday is 2 February.", ["family"]),
    ("fact", "Maya goes to Little Acorns nursery on Mondays and Thursdays.", ["family"]),
    ("fact", "Her mother lives in Leicester and visits at Diwali.", ["family"]),
    ("fact", "She speaks English, Tamil and some Polish.", ["identity"]),
    ("preference", "Prefers metric units for everything except road distances.", ["style"]),
    ("preference", "Likes short answers with bullet points.", ["style"]),
    ("preference", "Drinks oat milk flat whites; no dairy.", ["food"]),
    ("preference", "Vegetarian, but eats fish occasionally.", ["food"]),
    ("preference", "Prefers trains over flights for trips within Europe.", ["travel"]),
    ("preference", "Likes aisle seats on long journeys.", ["travel"]),
    (
        "preference",
        "Wants meeting invites in UK time with a 10 minute buffer.",
        ["work", "calendar"],
    ),
    ("preference", "Reads science fiction, especially Ursula Le Guin.", ["books"]),
    ("preference", "Listens to jazz piano while working.", ["music"]),
    ("preference", "Does not want notifications after 9pm.", ["calendar"]),
    ("procedure", "To book the dog sitter, message Jess two weeks ahead.", ["pets"]),
    (
        "procedure",
        "Expense claims go through Concur with receipts attached as PDF.",
        ["work", "money"],
    ),
    ("procedure", "To deploy the pipeline run make release then tag the commit.", ["work"]),
    ("procedure", "Renew the parking permit on the council website in January.", ["car", "home"]),
    ("procedure", "Backups of family photos go to the NAS every Sunday night.", ["home"]),
    ("procedure", "For the weekly shop, order from Sainsbury's on Thursday evening.", ["food"]),
    ("procedure", "Submit timesheets every Friday before 4pm.", ["work"]),
    ("procedure", "Water the tomato plants every other day in summer.", ["garden"]),
    (
        "failure_pattern",
        "The weather skill fails for postcodes; pass the city name instead.",
        ["skills"],
    ),
    (
        "failure_pattern",
        "Currency conversion needs ISO codes like GBP, not the word pounds.",
        ["skills"],
    ),
    (
        "failure_pattern",
        "The calendar API rejects times without a timezone offset.",
        ["calendar", "skills"],
    ),
    ("failure_pattern", "PDF export times out for files larger than 20 MB.", ["skills"]),
    ("skill_ref", "Use the train-times skill for National Rail departures.", ["travel"]),
    ("skill_ref", "Use the recipe-finder skill for vegetarian dinner ideas.", ["food"]),
    ("skill_ref", "The budget-sheet skill tracks monthly household spending.", ["money"]),
    ("fact", "Her running goal is a half marathon in October.", ["fitness"]),
    ("fact", "She swims at the Clifton lido on Saturday mornings.", ["fitness"]),
    ("fact", "Her favourite restaurant is Thali Café in Easton.", ["food"]),
    ("fact", "The boiler was serviced last in September.", ["home"]),
    ("fact", "Her laptop is a ThinkPad X1 Carbon from work.", ["work"]),
    ("fact", "Maya's favourite toy is a stuffed giraffe called Gigi.", ["family"]),
    ("fact", "Priya is learning the cello and has lessons on Wednesdays.", ["music"]),
    ("preference", "Prefers dark mode and large fonts.", ["style"]),
    ("fact", "Her national insurance number is stored in the password manager.", ["documents"]),
    ("fact", "Her dentist appointment is every six months at Clifton Dental.", ["health"]),
]

QUERIES = [
    ("what's my name", 0),
    ("which city do I live in", 1),
    ("who is my partner", 2),
    ("when was Maya born", 3),
    ("what breed is our dog", 4),
    ("what do I do for work, which company", 5),
    ("who is my manager", 6),
    ("do I have any allergies", 7),
    ("which GP surgery am I registered at", 8),
    ("what car do I drive", 9),
    ("when is the MOT due", 10),
    ("when does my passport expire", 11),
    ("which bank do we use for the joint account", 12),
    ("how is council tax paid", 13),
    ("when does the broadband contract end", 14),
    ("when is my birthday", 15),
    ("when is Tomasz's birthday", 16),
    ("which days does Maya go to nursery", 17),
    ("where does my mother live", 18),
    ("which languages do I speak", 19),
    ("should distances be metric or miles", 20),
    ("how long should answers be", 21),
    ("what milk do I drink in coffee", 22),
    ("am I vegetarian", 23),
    ("train or flight for a trip to Paris", 24),
    ("which seat do I like on a long journey", 25),
    ("how should meeting invites be scheduled", 26),
    ("recommend me a science fiction book", 27),
    ("what music do I like while working", 28),
    ("can you send notifications at 10pm", 29),
    ("how do I book the dog sitter", 30),
    ("how do I submit expense claims", 31),
    ("how do we deploy the pipeline", 32),
    ("when to renew the parking permit", 33),
    ("where do family photos get backed up", 34),
    ("when do we order the weekly shop", 35),
    ("when are timesheets due", 36),
    ("how often to water the tomatoes", 37),
    ("weather lookup failed for my postcode", 38),
    ("convert 50 pounds to euros", 39),
    ("calendar event creation keeps getting rejected", 40),
    ("the pdf export timed out again", 41),
    ("next National Rail departures to London", 42),
    ("vegetarian dinner ideas please", 43),
    ("how much did we spend this month on the household budget", 44),
    ("what is my running goal", 45),
    ("where do I swim on Saturday", 46),
    ("what's my favourite restaurant", 47),
    ("when was the boiler last serviced", 48),
    ("what is my cello lesson day", 51),
]


def test_fifty_queries_find_their_record_in_the_top_five(tmp_path: Path) -> None:
    assert len(QUERIES) == 50
    memory = Memory.open(tmp_path)
    ids = [
        memory.knowledge.add("web:priya", kind=kind, content=content, tags=tags).id
        for kind, content, tags in RECORDS
    ]
    misses = []
    for query, expected in QUERIES:
        found = [r.id for r in memory.knowledge.search("web:priya", query, k=5, touch=False)]
        if ids[expected] not in found:
            misses.append(query)
    hit_rate = 1 - len(misses) / len(QUERIES)
    assert hit_rate >= 0.9, f"top-5 hit rate {hit_rate:.0%}; missed {misses}"
