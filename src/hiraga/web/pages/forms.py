"""Form inputs several pages share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session

from hiraga.identity import directory
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import User
from hiraga.web.deps import app_context


@dataclass(frozen=True, slots=True)
class NewUserForm:
    """The fields of every "create a user" form (admin page and team page)."""

    email: str
    display_name: str
    password: str

    def echo(self, prefix: str = "") -> dict[str, str]:
        """What the page shows again after a failure (never the password)."""
        return {f"{prefix}email": self.email, f"{prefix}display_name": self.display_name}

    def create(self, request: Request, db: Session, scope: AccessScope, **placement: Any) -> User:
        """``placement``: platform roles or the team to create the user in (see directory.create_user)."""
        return directory.create_user(
            db,
            scope,
            email=self.email,
            password=self.password,
            display_name=self.display_name,
            password_min_length=app_context(request).settings.password_min_length,
            **placement,
        )


def new_user_form(
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> NewUserForm:
    return NewUserForm(email=email, display_name=display_name, password=password)


NewUser = Annotated[NewUserForm, Depends(new_user_form)]
