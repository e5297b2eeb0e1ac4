"""The menu tree on the left: the release's menus, Settings then the applet groups."""

from __future__ import annotations

from kconfiglib import MenuNode
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from busyconf.model.kconfig import KconfigTree
from busyconf.model.menu import menus, visible


class MenuTree(Tree[MenuNode]):
    """Menus (and choices and menuconfig symbols) of one Kconfig tree."""

    def __init__(self, tree: KconfigTree, **kwargs: object) -> None:
        top = tree.kconf.top_node
        super().__init__(f"BusyBox {tree.release}", data=top, **kwargs)  # type: ignore[arg-type]
        self.show_root = True
        self.guide_depth = 2
        self._by_menu: dict[int, TreeNode[MenuNode]] = {id(top): self.root}
        self._labels: dict[int, str] = {}
        self._hidden: set[int] = set()
        #: None: shown or hidden by the screen's width; True/False: the user's choice (m).
        self.pinned: bool | None = None
        for node, parent in menus(tree):
            parent_item = self._by_menu.get(id(parent), self.root)
            label = str(node.prompt[0] if node.prompt else getattr(node.item, "name", "?"))
            self._labels[id(node)] = label
            self._by_menu[id(node)] = parent_item.add(label, data=node, allow_expand=True)
        for child in self.root.children:
            child.allow_expand = bool(child.children)
        for item in self._by_menu.values():
            if not item.children:
                item.allow_expand = False
        self.root.expand()

    def fit(self, narrow: bool) -> None:
        """Show the tree unless the screen is narrow, or as the user pinned it."""
        self.display = (not narrow) if self.pinned is None else self.pinned

    def toggle(self) -> None:
        """Show or hide the tree for good, whatever the width."""
        self.pinned = not self.display
        self.display = self.pinned

    def dim_hidden(self) -> None:
        """Dim the menus the current values hide (call with the values applied to Kconfig)."""
        for key, item in self._by_menu.items():
            node = item.data
            if item is self.root or node is None:
                continue
            hidden = not visible(node)
            if hidden == (key in self._hidden):
                continue
            label = self._labels[key]
            if hidden:
                self._hidden.add(key)
                item.set_label(Text(label, style="dim"))
            else:
                self._hidden.discard(key)
                item.set_label(label)

    def tree_node_of(self, menu: MenuNode) -> TreeNode[MenuNode] | None:
        return self._by_menu.get(id(menu))

    def highlight_menu(self, menu: MenuNode) -> None:
        """Move the cursor to ``menu``, expanding its parents."""
        item = self.tree_node_of(menu)
        if item is None:
            return
        parent = item.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self.move_cursor(item)
