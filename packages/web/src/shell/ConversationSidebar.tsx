/** The conversation list. Messaging is not built yet, so it shows its honest empty state. */
export function ConversationSidebar() {
  return (
    <aside className="sidebar" aria-labelledby="conversations-heading">
      <h1 id="conversations-heading" className="sidebar-heading">
        Conversations
      </h1>
      <div className="empty-state empty-state-compact">
        <p className="empty-state-title">No conversations yet</p>
        <p className="muted">Conversations you start or are added to will appear here.</p>
      </div>
    </aside>
  );
}
