import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { AdminApiKeysPage } from '../features/admin/ApiKeysPage.tsx';
import { BotsRoute } from '../features/admin/bots/BotsPage.tsx';
import { ChannelsPage } from '../features/admin/channels/ChannelsPage.tsx';
import { WebhooksPage } from '../features/admin/WebhooksPage.tsx';
import { CannedResponsesPage } from '../features/admin/CannedResponsesPage.tsx';
import { RoutingAdminPage } from '../features/admin/RoutingAdminPage.tsx';
import { UsersPage } from '../features/admin/UsersPage.tsx';
import { WidgetSettingsPage } from '../features/admin/WidgetSettingsPage.tsx';
import { AgentStateControl } from '../features/agent/AgentStateControl.tsx';
import { OfferNotices } from '../features/agent/OfferNotices.tsx';
import { InboxPage } from '../features/inbox/InboxPage.tsx';
import { LivePage } from '../features/live/LivePage.tsx';
import { SearchPage } from '../features/search/SearchPage.tsx';
import { titleText } from '../lib/title.ts';
import { inboxOf, totalUnread } from '../lib/workspace-state.ts';
import { Empty, Loading } from '../ui/feedback.tsx';
import { Icon, type IconName } from '../ui/Icon.tsx';
import { WorkspaceContext, useWorkspace, useWorkspaceState } from './context.ts';
import { HelpOverlay } from './HelpOverlay.tsx';
import { href, navigate, usePath } from './router.ts';
import type { Session } from './session.ts';
import { Toasts } from './Toasts.tsx';
import { Workspace } from './workspace.ts';

// The analytics page brings the charting library (uPlot): loaded when opened, so the agents' workspace stays light.
const AnalyticsPage = lazy(() => import('../features/analytics/AnalyticsPage.tsx').then((m) => ({ default: m.AnalyticsPage })));

interface NavItem {
  path: string;
  label: string;
  icon: IconName;
  roles: ReadonlyArray<'admin' | 'manager' | 'agent'>;
}

const WORK: NavItem[] = [
  { path: '/', label: 'Inbox', icon: 'inbox', roles: ['admin', 'manager', 'agent'] },
  { path: '/live', label: 'Live view', icon: 'activity', roles: ['admin', 'manager'] },
  { path: '/analytics', label: 'Analytics', icon: 'barChart', roles: ['admin', 'manager'] },
  { path: '/search', label: 'Search', icon: 'search', roles: ['admin', 'manager'] },
];
const SETTINGS: NavItem[] = [
  { path: '/admin/canned-responses', label: 'Canned responses', icon: 'message', roles: ['admin', 'manager', 'agent'] },
  { path: '/admin/users', label: 'Users & roles', icon: 'users', roles: ['admin', 'manager'] },
  { path: '/admin/routing', label: 'Skills & capacity', icon: 'route', roles: ['admin', 'manager'] },
  { path: '/admin/widget', label: 'Widget', icon: 'widget', roles: ['admin', 'manager'] },
  { path: '/admin/channels', label: 'Channels', icon: 'smartphone', roles: ['admin'] },
  { path: '/admin/bots', label: 'Bots', icon: 'bot', roles: ['admin'] },
  { path: '/admin/api-keys', label: 'API keys', icon: 'key', roles: ['admin'] },
  { path: '/admin/webhooks', label: 'Webhooks', icon: 'zap', roles: ['admin'] },
];

export function Shell({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const [workspace] = useState(() => new Workspace(session));
  useEffect(() => {
    workspace.start();
    return () => workspace.stop();
  }, [workspace]);
  return (
    <WorkspaceContext.Provider value={workspace}>
      <Frame onLogout={onLogout} />
    </WorkspaceContext.Provider>
  );
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

function Frame({ onLogout }: { onLogout: () => void }) {
  const path = usePath();
  const state = useWorkspaceState();
  const [help, setHelp] = useState(false);
  const me = useWorkspace().me;
  // Bots never log in to the console (their credentials are refused at login); treat one like an agent if it did.
  const role = me.role === 'bot' ? 'agent' : me.role;
  const selectedId = path.startsWith('/conversations/') ? (path.split('/')[2] ?? null) : null;
  const order = useMemo(() => {
    const inbox = inboxOf(state);
    return [...inbox.mine, ...inbox.queue].map((i) => i.id);
  }, [state]);

  const unread = totalUnread(state);
  useEffect(() => {
    document.title = titleText(unread);
  }, [unread]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey && (event.key === 'ArrowDown' || event.key === 'ArrowUp')) {
        event.preventDefault();
        if (order.length === 0) return;
        const index = selectedId ? order.indexOf(selectedId) : -1;
        const next = event.key === 'ArrowDown' ? (index + 1) % order.length : index <= 0 ? order.length - 1 : index - 1;
        const id = order[next];
        if (id) navigate(`/conversations/${id}`);
        return;
      }
      if (event.altKey && /^[1-9]$/.test(event.key)) {
        const id = order[Number(event.key) - 1];
        if (id) {
          event.preventDefault();
          navigate(`/conversations/${id}`);
        }
        return;
      }
      if (isTyping(event.target)) return;
      if (event.key === '?') {
        event.preventDefault();
        setHelp((open) => !open);
      } else if (event.key === 'Escape') {
        setHelp(false);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [order, selectedId]);

  const link = (item: NavItem) => {
    const active = item.path === '/' ? path === '/' || path.startsWith('/conversations') : path.startsWith(item.path);
    return (
      <li key={item.path}>
        <a
          href={href(item.path)}
          className={`nav-link${active ? ' active' : ''}`}
          aria-current={active ? 'page' : undefined}
          onClick={(e) => {
            if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
            e.preventDefault();
            navigate(item.path);
          }}
        >
          <Icon name={item.icon} />
          <span>{item.label}</span>
          {item.path === '/' && unread > 0 && (
            <span className="badge">
              {unread}
              <span className="sr-only"> unread</span>
            </span>
          )}
        </a>
      </li>
    );
  };

  return (
    <div className="app">
      <nav className="rail" aria-label="Main">
        <div className="rail-brand">
          <span className="logo-mark" aria-hidden="true">
            P
          </span>
          <span>Parley</span>
        </div>
        <ul className="nav-list">{WORK.filter((i) => i.roles.includes(role)).map(link)}</ul>
        <p className="nav-heading">Settings</p>
        <ul className="nav-list">{SETTINGS.filter((i) => i.roles.includes(role)).map(link)}</ul>
        <div className="rail-foot">
          <button type="button" className="nav-link" onClick={() => setHelp(true)}>
            <Icon name="keyboard" />
            <span>Shortcuts</span>
            <kbd>?</kbd>
          </button>
          <div className="me">
            <span className="avatar" aria-hidden="true">
              {initials(me.name)}
            </span>
            <span className="me-text">
              <span className="me-name">{me.name}</span>
              <span className="me-role">{me.role}</span>
            </span>
            <button type="button" className="btn-icon" onClick={onLogout} aria-label="Sign out" title="Sign out">
              <Icon name="logout" />
            </button>
          </div>
        </div>
      </nav>
      <div className="main">
        <header className="topbar">
          <ConnectionBanner connection={state.connection} />
          <div className="topbar-right">
            <SoundToggle />
            <AgentStateControl />
          </div>
        </header>
        <div className="page">
          <Route path={path} role={role} selectedId={selectedId} />
        </div>
      </div>
      <OfferNotices />
      <Toasts />
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
    </div>
  );
}

function Route({ path, role, selectedId }: { path: string; role: 'admin' | 'manager' | 'agent'; selectedId: string | null }) {
  const supervisor = role !== 'agent';
  if (path === '/' || path.startsWith('/conversations/')) return <InboxPage selectedId={selectedId} />;
  if (path === '/live' && supervisor) return <LivePage />;
  if (path === '/analytics' && supervisor)
    return (
      <Suspense fallback={<Loading />}>
        <AnalyticsPage />
      </Suspense>
    );
  if (path === '/search' && supervisor) return <SearchPage />;
  if (path === '/admin/canned-responses') return <CannedResponsesPage />;
  if (path === '/admin/users' && supervisor) return <UsersPage />;
  if (path === '/admin/routing' && supervisor) return <RoutingAdminPage />;
  if (path === '/admin/widget' && supervisor) return <WidgetSettingsPage />;
  if (path === '/admin/channels' && role === 'admin') return <ChannelsPage />;
  if (path === '/admin/api-keys' && role === 'admin') return <AdminApiKeysPage />;
  if ((path === '/admin/bots' || path.startsWith('/admin/bots/')) && role === 'admin') return <BotsRoute path={path} />;
  if (path === '/admin/webhooks' && role === 'admin') return <WebhooksPage />;
  return (
    <div className="page-pad">
      <Empty title="Nothing here" icon="alert">
        <p>This page does not exist, or your role does not open it.</p>
        <button type="button" className="btn" onClick={() => navigate('/')}>
          Go to the inbox
        </button>
      </Empty>
    </div>
  );
}

function SoundToggle() {
  const workspace = useWorkspace();
  const { soundOn } = useWorkspaceState();
  return (
    <button
      type="button"
      className="btn-icon"
      aria-pressed={soundOn}
      aria-label={soundOn ? 'Sound on for new messages' : 'Sound off for new messages'}
      title={soundOn ? 'Sound on' : 'Sound off'}
      onClick={() => workspace.setSound(!soundOn)}
    >
      <Icon name={soundOn ? 'bell' : 'bellOff'} />
    </button>
  );
}

function ConnectionBanner({ connection }: { connection: string }) {
  if (connection === 'open') return <div />;
  const text = connection === 'connecting' ? 'Connecting…' : connection === 'reconnecting' ? 'Reconnecting… messages you send will go out when the connection is back.' : 'Offline';
  return (
    <div className="conn-banner" role="status">
      <Icon name="wifiOff" />
      {text}
    </div>
  );
}

export function initials(name: string): string {
  return (
    name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((p) => p[0]?.toUpperCase())
      .join('') || '?'
  );
}
