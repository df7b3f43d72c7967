package main

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/khipu-go/khipu"
)

// Product is something the shop sells.
type Product struct {
	ID       string
	Name     string
	Price    khipu.Amount
	Currency string
}

// Shop is a small web shop that takes payments with Khipu.
type Shop struct {
	Khipu    Gateway
	Orders   *Store
	Products []Product
	// BaseURL is where Khipu and the payer reach the shop, e.g.
	// "https://shop.example"; notify_url, return_url and cancel_url are
	// built from it.
	BaseURL string
	Log     *slog.Logger
}

// Handler returns the shop's routes.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.productsPage)
	mux.HandleFunc("POST /orders", s.checkout)
	mux.HandleFunc("GET /orders/{id}", s.orderPage)
	mux.HandleFunc("GET /orders/{id}/status", s.status)
	mux.HandleFunc("GET /orders/{id}/cancel", s.cancel)
	mux.Handle("/khipu/notify", s.Khipu.NotificationHandler(s.deliver))
	return mux
}

func (s *Shop) product(id string) (Product, bool) {
	for _, p := range s.Products {
		if p.ID == id {
			return p, true
		}
	}
	return Product{}, false
}

var pages = template.Must(template.New("").Funcs(template.FuncMap{"money": formatMoney}).Parse(`
{{define "head"}}<!doctype html>
<html lang="es">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }
  .product { display: flex; justify-content: space-between; align-items: center; border-bottom: 1px solid #ddd; padding: .75rem 0; }
  .product span:first-child { flex: 1; }
  .price { font-weight: bold; margin: 0 1rem; }
  #state { font-size: 1.25rem; }
</style>{{end}}

{{define "products"}}{{template "head"}}
<title>Tienda</title>
<h1>Tienda</h1>
{{range .}}<form class="product" method="post" action="/orders">
  <input type="hidden" name="product" value="{{.ID}}">
  <span>{{.Name}}</span><span class="price" id="price-{{.ID}}">{{money .Price .Currency}}</span>
  <button id="buy-{{.ID}}">Pagar con Khipu</button>
</form>
{{end}}{{end}}

{{define "order"}}{{template "head"}}
<title>Pedido {{.Order.ID}}</title>
<h1>Tu pedido</h1>
<p>{{.ProductName}} — {{money .Order.Amount .Order.Currency}}</p>
<p id="state" data-order="{{.Order.ID}}" data-state="{{.State}}">{{.Text}}</p>
<p><a href="/">Volver a la tienda</a></p>
{{if not .Final}}<script>
// Coming back from Khipu proves nothing: ask the shop, which only a
// verified notification convinces, until the order is paid or cancelled.
(function poll(delay) {
  setTimeout(function () {
    fetch("/orders/{{.Order.ID}}/status").then(function (r) { return r.json(); }).then(function (o) {
      var el = document.getElementById("state");
      el.dataset.state = o.state;
      el.textContent = o.text;
      if (o.state !== "paid" && o.state !== "cancelled") poll(2000);
    }).catch(function () { poll(5000); });
  }, delay);
})(1000);
</script>{{end}}{{end}}
`))

func (s *Shop) productsPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "products", s.Products)
}

func (s *Shop) render(w http.ResponseWriter, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, page, data); err != nil {
		s.Log.Error("rendering a page", "page", page, "err", err)
	}
}

// checkout stores the order with its amount and currency, creates the Khipu
// payment for it, records the payment on the order and sends the payer to
// Khipu. The order is in the database before Khipu hears of it, so a
// notification can never arrive for an order the shop has not stored.
func (s *Shop) checkout(w http.ResponseWriter, r *http.Request) {
	product, ok := s.product(r.PostFormValue("product"))
	if !ok {
		http.Error(w, "Producto desconocido", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	order, err := s.Orders.Create(ctx, product.ID, product.Price, product.Currency)
	if err != nil {
		s.Log.Error("storing an order", "err", err)
		http.Error(w, "No pudimos registrar tu pedido; inténtalo de nuevo", http.StatusInternalServerError)
		return
	}
	created, err := s.Khipu.CreatePayment(ctx, &khipu.PaymentCreateParams{
		Subject:       product.Name,
		Currency:      order.Currency,
		Amount:        order.Amount,
		TransactionID: order.ID,
		ReturnURL:     s.BaseURL + "/orders/" + order.ID,
		CancelURL:     s.BaseURL + "/orders/" + order.ID + "/cancel",
		NotifyURL:     s.BaseURL + "/khipu/notify",
	})
	if err == nil {
		err = s.Orders.SetPayment(ctx, order.ID, created.PaymentID)
	}
	if err != nil {
		// Creating a payment is never retried: the payer can try again,
		// which makes a new order. This one is cancelled; a payment whose
		// answer was lost cannot pay it, as it is not the order's own.
		s.Log.Error("creating the Khipu payment", "order", order.ID, "err", err)
		if _, cerr := s.Orders.Cancel(context.WithoutCancel(ctx), order.ID, time.Now()); cerr != nil {
			s.Log.Error("cancelling an order without a payment", "order", order.ID, "err", cerr)
		}
		http.Error(w, "Khipu no está disponible en este momento; inténtalo de nuevo", http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, created.PaymentURL, http.StatusSeeOther)
}

// orderView is what an order's page and its status poll show.
type orderView struct {
	Order       Order
	ProductName string
	State       string // paid, verifying, unchecked, pending or cancelled
	Text        string // what the payer reads
	Final       bool   // nothing more will change it: stop polling
}

// view says where the order stands. An unpaid order is "verifying" while
// Khipu reports its payment done or being verified but its notification has
// not been processed yet, "unchecked" while Khipu cannot be asked, and
// "pending" while the payer has not paid.
//
// A cancelled order with a payment is asked about too: the payer may have
// paid and then followed the cancel link (in another tab, say), and the
// notification still pays the order. It is "cancelled", and final, only
// when Khipu says its payment was not made.
func (s *Shop) view(ctx context.Context, o Order) orderView {
	v := orderView{Order: o, ProductName: o.Product}
	if p, ok := s.product(o.Product); ok {
		v.ProductName = p.Name
	}
	switch o.State() {
	case OrderPaid:
		v.State, v.Text, v.Final = "paid", "Pagado. ¡Gracias por tu compra!", true
		return v
	case OrderCancelled:
		v.State, v.Text, v.Final = "cancelled", "Cancelado: no se realizó el pago.", true
	default:
		v.State, v.Text = "pending", "Pendiente: aún no recibimos tu pago."
	}
	if o.PaymentID == "" {
		// No payment was created (or not yet): there is nothing to pay
		// the order with, and nothing to ask Khipu.
		return v
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	status, err := s.Khipu.PaymentStatus(ctx, o.PaymentID)
	switch {
	case err != nil:
		// Khipu's answer is only a hint, but without it nothing says the
		// payment was not made: say so, and ask again at the next poll.
		s.Log.Warn("asking Khipu for a payment's status", "order", o.ID, "payment", o.PaymentID, "err", err)
		v.State, v.Text, v.Final = "unchecked", "Aún no pudimos consultar tu pago con Khipu; seguimos intentando…", false
	case status == khipu.StatusDone || status == khipu.StatusVerifying:
		v.State, v.Text, v.Final = "verifying", "Verificando tu pago con Khipu…", false
	}
	return v
}

// orderPage is the return_url: where Khipu sends the payer back. Coming
// back proves nothing, so the page says where the order stands and polls.
func (s *Shop) orderPage(w http.ResponseWriter, r *http.Request) {
	order, ok := s.order(w, r)
	if !ok {
		return
	}
	s.render(w, http.StatusOK, "order", s.view(r.Context(), order))
}

// status is what the order page polls.
func (s *Shop) status(w http.ResponseWriter, r *http.Request) {
	order, ok := s.order(w, r)
	if !ok {
		return
	}
	v := s.view(r.Context(), order)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(struct {
		ID    string `json:"id"`
		State string `json:"state"`
		Text  string `json:"text"`
	}{order.ID, v.State, v.Text})
}

// cancel is the cancel_url: Khipu sends the payer here when they give up
// on the payment page. Khipu makes it a GET, so a GET cancels; it changes
// only an unpaid order, and a payment that arrives afterwards still pays
// it, so a stray visit costs nothing.
func (s *Shop) cancel(w http.ResponseWriter, r *http.Request) {
	order, ok := s.order(w, r)
	if !ok {
		return
	}
	changed, err := s.Orders.Cancel(r.Context(), order.ID, time.Now())
	if err != nil {
		s.Log.Error("cancelling an order", "order", order.ID, "err", err)
		http.Error(w, "No pudimos cancelar tu pedido; inténtalo de nuevo", http.StatusInternalServerError)
		return
	}
	if changed {
		s.Log.Info("order cancelled", "order", order.ID)
	}
	if order, ok = s.order(w, r); ok {
		s.render(w, http.StatusOK, "order", s.view(r.Context(), order))
	}
}

// order reads the order named in the path, answering 404 or 500 itself
// when it cannot.
func (s *Shop) order(w http.ResponseWriter, r *http.Request) (Order, bool) {
	order, err := s.Orders.Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, ErrNoOrder):
		http.Error(w, "No existe ese pedido", http.StatusNotFound)
		return Order{}, false
	case err != nil:
		s.Log.Error("reading an order", "err", err)
		http.Error(w, "No pudimos leer tu pedido; inténtalo de nuevo", http.StatusInternalServerError)
		return Order{}, false
	}
	return order, true
}

// deliver runs for every notification the Gateway verified. It checks the
// payment against its order and marks the order paid; the database makes
// that happen once however often, and at however many shop processes, the
// notification arrives. It is quick, so Khipu gets its answer well inside
// the 30 s it waits.
func (s *Shop) deliver(ctx context.Context, p *VerifiedPayment) error {
	order, err := s.Orders.Get(ctx, p.TransactionID)
	switch {
	case errors.Is(err, ErrNoOrder):
		s.Log.Warn("notification for an unknown order", "payment", p.PaymentID, "transaction_id", p.TransactionID)
		return nil // nothing to deliver, and a retry will not change that
	case err != nil:
		return err // Khipu notifies again later
	}
	if err := p.Check(order); err != nil {
		s.Log.Warn("payment does not match its order; not delivering", "payment", p.PaymentID, "order", order.ID, "err", err)
		return nil
	}
	changed, err := s.Orders.MarkPaid(ctx, order.ID, p.PaymentID, time.Now())
	switch {
	case errors.Is(err, errNotOrdersPayment):
		// Right order id, amount and currency, but not the payment this
		// shop created for the order: nothing proves it was meant for it.
		s.Log.Warn("payment is not the one created for its order; not delivering", "err", err)
		return nil
	case err != nil:
		return err // Khipu notifies again later
	}
	if changed {
		// The shipment was queued in the same transaction; a worker
		// reading the shipments table does the slow work.
		s.Log.Info("order paid", "order", order.ID, "payment", p.PaymentID)
	}
	return nil
}
