"""The channels (渠道): the list, for everyone who reads marketing, with how many
products and campaigns chose each; a new channel, a change of one and switching
one off or back on for the business managers. The list holds no customer data:
there is no scope to narrow (the campaigns counted are those the reader sees)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.listing import Sorting, paginate

from ..channel_forms import ChannelFilter, ChannelForm, SwitchForm
from ..channels import CHANNEL_FIELDS, channel_create, channel_list, channel_switch, channel_update
from ..models import Channel
from ._common import filtered, show_errors

SORTING = Sorting(
    {
        "order": ("position", "code"),
        "name": ("name",),
        "code": ("code",),
        "status": ("-is_active",),
        "products": ("product_count",),
        "campaigns": ("campaign_count",),
    },
    default="order",
)


def _list_page(request, status: int = 200):
    listing = filtered(request, ChannelFilter, channel_list(user=request.user))
    return render(
        request,
        "marketing/channels/channel_list.html",
        {
            "page_obj": paginate(request, SORTING.apply(request, listing.rows)),
            "sort": SORTING.key(request),
            "filter": listing.filter,
        },
        status=max(status, listing.status),
    )


class ChannelListView(PermissionRequiredMixin, View):
    permission_required = "marketing.view_channel"

    def get(self, request):
        return _list_page(request)


class ChannelEditView(PermissionRequiredMixin, View):
    """A new channel (no pk) or a change of one; its code is set once."""

    permission_required = "marketing.manage_channel"

    def _page(self, request, form, channel, status=200):
        return render(
            request, "marketing/channels/channel_form.html", {"form": form, "channel": channel}, status=status
        )

    def get(self, request, pk=None):
        channel = get_object_or_404(Channel, pk=pk) if pk is not None else None
        return self._page(request, ChannelForm(instance=channel), channel)

    def post(self, request, pk=None):
        channel = get_object_or_404(Channel, pk=pk) if pk is not None else None
        # the form checks a copy; the service writes (and checks again under lock)
        form = ChannelForm(request.POST, instance=Channel.objects.get(pk=pk) if channel else None)
        if form.is_valid():
            values = {field: form.cleaned_data[field] for field in CHANNEL_FIELDS}
            try:
                if channel is None:
                    saved = channel_create(by=request.user, code=form.cleaned_data["code"], **values)
                    done = _("Channel “%(name)s” added.")
                else:
                    saved = channel_update(channel, by=request.user, **values)
                    done = _("Channel “%(name)s” saved.")
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, done % {"name": saved.name})
                return redirect("marketing:channel_list")
        return self._page(request, form, channel, status=400)


class ChannelSwitchView(PermissionRequiredMixin, View):
    """Switch a channel off (products and campaigns that chose it keep it; it is no
    longer offered) or back on."""

    permission_required = "marketing.manage_channel"

    def post(self, request, pk):
        channel = get_object_or_404(Channel, pk=pk)
        form = SwitchForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Say whether to switch the channel on or off."))
            return _list_page(request, status=400)
        active = form.cleaned_data["active"]
        try:
            channel = channel_switch(channel, by=request.user, active=active)
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            if active:
                done = _("Channel “%(name)s” is in use again: it can be chosen for campaigns and products.")
            else:
                done = _(
                    "Channel “%(name)s” switched off: it is no longer offered; "
                    "the products and campaigns that chose it keep it."
                )
            messages.success(request, done % {"name": channel.name})
        return redirect("marketing:channel_list")
