"""Whose figures a user may see, by the one data scope (`accounts.scope`): a client
manager their own row, a branch head the rows of their branch subtree (managers and
pools), head office every row."""

from __future__ import annotations

from django.db import models

from accounts.scope import ScopeKind, data_scope


class ManagerResultQuerySet(models.QuerySet):
    def visible_to(self, user) -> ManagerResultQuerySet:
        scope = data_scope(user)
        if scope.kind is ScopeKind.ALL:
            return self.all()
        if scope.kind is ScopeKind.SUBTREE:
            assert scope.branch is not None  # a subtree scope always has its branch
            return self.filter(branch__path__startswith=scope.branch.path)
        if scope.kind is ScopeKind.OWN:
            return self.filter(manager=user)
        return self.none()


ManagerResultManager = models.Manager.from_queryset(ManagerResultQuerySet)
