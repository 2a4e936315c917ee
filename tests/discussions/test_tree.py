"""Arranging loaded comments into the displayed tree: order, the five-level limit, placeholders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eventmgr.discussions.models import Comment
from eventmgr.discussions.tree import CommentNode, build_forest, count_nodes

SHOWN = frozenset({"published", "hidden"})
START = datetime(2015, 9, 23, 20, 0, tzinfo=UTC)


def make(
    comment_id: int,
    parent: Comment | None = None,
    *,
    status: str = "published",
    minutes: int | None = None,
) -> Comment:
    """A comment that never touches the database; ids and times increase together by default."""
    return Comment(
        id=comment_id,
        parent_id=parent.id if parent else None,
        root_id=(parent.root_id or parent.id) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        status=status,
        guest_name=f"Person {comment_id}",
        created_at=START + timedelta(minutes=comment_id if minutes is None else minutes),
    )


def shape(nodes: list[CommentNode]) -> list:
    """(id, level, in_reply_to, children) tuples, for readable assertions."""
    return [(node.comment.id, node.level, node.in_reply_to, shape(node.children)) for node in nodes]


def test_replies_nest_under_their_parent_in_chronological_order():
    root = make(1)
    late = make(2, root, minutes=50)
    early = make(3, root, minutes=10)
    under_early = make(4, early)
    forest = build_forest([root], [late, early, under_early], SHOWN)
    assert shape(forest) == [
        (1, 1, None, [(3, 2, None, [(4, 3, None, [])]), (2, 2, None, [])]),
    ]


def test_replies_deeper_than_five_levels_show_at_level_five_naming_whom_they_answer():
    chain = [make(1)]
    for number in range(2, 9):  # depths 1..6 below the root: eight levels in all
        chain.append(make(number, chain[-1]))
    sibling = make(20, chain[4])  # another reply at level 6, after the chain
    forest = build_forest([chain[0]], [*chain[1:], sibling], SHOWN)

    level_four = forest[0].children[0].children[0].children[0]
    assert level_four.comment.id == 4 and level_four.level == 4
    flattened = [(node.comment.id, node.level, node.in_reply_to) for node in level_four.children]
    assert flattened == [
        (5, 5, None),
        (6, 5, "Person 5 (guest)"),
        (7, 5, "Person 6 (guest)"),
        (8, 5, "Person 7 (guest)"),
        (20, 5, "Person 5 (guest)"),
    ]
    assert all(not node.children for node in level_four.children)
    assert count_nodes(forest) == 9


def test_deleted_comments_stay_as_placeholders_only_while_something_shown_is_below():
    root = make(1, status="deleted")
    kept = make(2, root, status="deleted")
    reply = make(3, kept)
    lonely = make(4, root, status="deleted")
    other_root = make(5, status="deleted")
    forest = build_forest([root, other_root], [kept, reply, lonely], SHOWN)
    assert shape(forest) == [(1, 1, None, [(2, 2, None, [(3, 3, None, [])])])]


def test_hidden_comments_keep_their_place_and_flattened_replies_name_them_neutrally():
    chain = [make(1)]
    for number in range(2, 6):
        chain.append(make(number, chain[-1]))
    chain[4].status = "hidden"
    reply = make(6, chain[4])
    deepest = make(7, reply)
    forest = build_forest([chain[0]], [*chain[1:], reply, deepest], SHOWN)
    level_four = forest[0].children[0].children[0].children[0]
    assert [(node.comment.id, node.in_reply_to) for node in level_four.children] == [
        (5, None),
        (6, "a hidden comment"),
        (7, "Person 6 (guest)"),
    ]


def test_pending_comments_are_left_out_unless_their_status_is_shown():
    root = make(1)
    pending = make(2, root, status="pending")
    assert shape(build_forest([root], [pending], SHOWN)) == [(1, 1, None, [])]
    moderators = SHOWN | {"pending"}
    assert shape(build_forest([root], [pending], moderators)) == [(1, 1, None, [(2, 2, None, [])])]
