from celery import shared_task


@shared_task(name="accounts.clear_expired_sessions")
def clear_expired_sessions() -> int:
    """Delete expired server-side sessions and the session index rows that point
    at them; harmless to run twice."""
    from accounts.services import sessions_clear_expired

    return sessions_clear_expired()
