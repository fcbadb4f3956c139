"""MovieLens-100k as text pairs (read from the installed recbole package): leave-last-out."""

from collections import Counter

from tunelab.data import movielens


def test_each_user_is_split_leave_last_out():
    users, items = movielens.ratings()
    assert (len(users), len(items)) == (942, 1682)  # one user of 943 liked fewer than three
    user = users["1"]
    per_user = movielens.PER_USER
    assert movielens.targets(user, "test", per_user) == [len(user.likes) - 1]
    assert movielens.targets(user, "dev", per_user) == [len(user.likes) - 2]
    train = movielens.targets(user, "train", per_user)
    assert len(train) == per_user and max(train) == len(user.likes) - 3 and min(train) >= 1


def test_pairs_show_the_likes_before_the_target_and_unrated_negatives():
    users, items = movielens.ratings()
    test = movielens.pair_examples("test")
    assert Counter(e.label for e in test) == {"liked": 942, "other": 942 * movielens.NEGATIVES}
    first, negative = test[0], test[1]
    likes = users["1"].likes
    assert first.text_pair == items[likes[-1]]
    assert first.text == "; ".join(items[i] for i in likes[-1 - movielens.HISTORY : -1])
    by_text = {text: item for item, text in items.items()}
    assert negative.text == first.text and by_text[negative.text_pair] not in users["1"].rated


def test_ranking_cases_hold_the_target_first_and_unrated_others():
    users, _ = movielens.ratings()
    case = movielens.ranking_cases()[0]
    user = users[case.user]
    assert case.candidates[0] == user.likes[-1] and case.likes == user.likes[:-1]
    others = case.candidates[1:]
    assert len(set(others)) == movielens.CANDIDATES and not set(others) & user.rated
