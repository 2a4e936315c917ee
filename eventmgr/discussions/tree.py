"""Arranging a page of loaded comments into the nested tree the thread page shows (no SQL)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from eventmgr.discussions.models import Comment

#: Replies nest this many levels deep on the page; deeper ones are shown at this level.
MAX_DISPLAY_LEVEL = 5


@dataclass
class CommentNode:
    """A comment as the page shows it: its display level (1-5), replies, and whom it answers."""

    comment: Comment
    level: int
    children: list[CommentNode] = field(default_factory=list)
    #: Set on replies shown below the deepest level, whose parent is not the comment above them.
    in_reply_to: str | None = None


def replying_to_label(parent: Comment) -> str:
    """How a flattened reply names the comment it answers."""
    if parent.is_deleted:
        return "a deleted comment"
    if parent.is_hidden:
        return "a hidden comment"
    return parent.author_name


def shown_ids(comments: Iterable[Comment], shown_statuses: Collection[str]) -> set[int]:
    """Ids of comments to display: those with a shown status, and any with a shown reply below."""
    # So a deleted comment with nothing shown beneath it disappears, while one with replies stays
    # as a placeholder and the replies keep their place.
    comments = list(comments)
    shown: set[int] = set()
    # Deepest first, so every comment's replies are decided before the comment itself.
    for comment in sorted(comments, key=lambda comment: comment.depth, reverse=True):
        if comment.status in shown_statuses or comment.id in shown:
            shown.add(comment.id)
            if comment.parent_id is not None:
                shown.add(comment.parent_id)
    return shown


def build_forest(
    roots: Sequence[Comment], comments: Iterable[Comment], shown_statuses: Collection[str]
) -> list[CommentNode]:
    """Nodes for `roots` (page order) and the `comments` beneath them, replies oldest first."""
    # Replies deeper than MAX_DISPLAY_LEVEL follow their ancestor at that level, in reading order,
    # each naming whom it answers.
    everything = {comment.id: comment for comment in (*roots, *comments)}
    visible = shown_ids(everything.values(), shown_statuses)
    replies: dict[int, list[Comment]] = defaultdict(list)
    for comment in everything.values():
        if comment.parent_id is not None and comment.id in visible:
            replies[comment.parent_id].append(comment)
    for siblings in replies.values():
        siblings.sort(key=lambda comment: (comment.created_at, comment.id))

    def flattened(comment: Comment) -> list[CommentNode]:
        """`comment` and everything beneath it, in reading order, all at the deepest level."""
        nodes: list[CommentNode] = []
        stack: list[tuple[Comment, str | None]] = [(comment, None)]
        while stack:
            current, label = stack.pop()
            nodes.append(CommentNode(current, MAX_DISPLAY_LEVEL, in_reply_to=label))
            stack.extend(
                (reply, replying_to_label(current)) for reply in reversed(replies[current.id])
            )
        return nodes

    def build(comment: Comment, level: int) -> CommentNode:
        """`comment` at `level` with its replies nested (recursion stops at MAX_DISPLAY_LEVEL)."""
        node = CommentNode(comment, level)
        for reply in replies[comment.id]:
            if level + 1 < MAX_DISPLAY_LEVEL:
                node.children.append(build(reply, level + 1))
            else:
                node.children.extend(flattened(reply))
        return node

    return [build(root, 1) for root in roots if root.id in visible]


def count_nodes(nodes: Iterable[CommentNode]) -> int:
    """How many comments a forest shows."""
    total, stack = 0, list(nodes)
    while stack:
        node = stack.pop()
        total += 1
        stack.extend(node.children)
    return total
